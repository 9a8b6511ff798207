// Leadership and the L4 gateway as etcd's own end-to-end tests drive them, side by side with
// etcd 3.4: `etcdctl move-leader` through a follower, through the leader, and with every
// endpoint to the member that already leads (answered at once); `gateway` with its flags
// before `start`, its ready line, and etcdctl through it. Address block 127.0.173.x.
import assert from "node:assert/strict";
import {
  ETCD_TS,
  itest,
  memberFlags,
  type MemberURLs,
  type Proc,
  run,
  singleMemberFlags,
  spawn,
  startReady,
  stop,
} from "../helpers/process.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tmp.ts";
import { etcdctl } from "../helpers/etcdctl.ts";

/** Three members of `command` on 127.0.173.<first..first+2>, once all serve clients. */
async function startCluster(command: string, first: number, dir: string) {
  const members: MemberURLs[] = [0, 1, 2].map((i) => {
    const ip = `127.0.173.${first + i}`;
    return {
      name: `m${i}`,
      clientURL: `http://${ip}:2379`,
      peerURL: `http://${ip}:2380`,
      dataDir: `${dir}/${command.split("/").pop()}-m${i}`,
    };
  });
  for (const m of members) await assertPortsFree(new URL(m.clientURL).hostname, [2379, 2380]);
  const cluster = members.map((m) => `${m.name}=${m.peerURL}`).join(",");
  const procs = members.map((m) =>
    spawn(command, [...memberFlags(m), "--initial-cluster", cluster])
  );
  await Promise.all(procs.map((p) => p.waitFor("ready to serve client requests", 30_000)));
  return { endpoints: members.map((m) => m.clientURL), procs };
}

/** Each endpoint's member ID and whether it leads, from `endpoint status`. */
async function statuses(endpoints: string[]): Promise<{ id: string; leads: boolean }[]> {
  const r = await etcdctl(endpoints.join(","), "endpoint", "status");
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n").map((line) => {
    const cols = line.split(", ");
    return { id: cols[1], leads: cols[4] === "true" };
  });
}

/** etcd's TestCtlV3MoveLeader: what etcdctl prints at each step, IDs and addresses masked. */
async function moveLeaderScript(endpoints: string[]): Promise<string[]> {
  const before = await statuses(endpoints);
  const lead = before.findIndex((s) => s.leads);
  assert.ok(lead >= 0, "a leader");
  const transferee = before[(lead + 1) % 3].id;
  const mask = (text: string) => {
    let out = text.replaceAll(before[lead].id, "<leader>").replaceAll(transferee, "<transferee>");
    const roles = ["<leader-endpoint>", "<transferee-endpoint>", "<other-endpoint>"];
    roles.forEach((role, i) => (out = out.replaceAll(endpoints[(lead + i) % 3], role)));
    return out;
  };
  const move = async (via: string[]) => {
    const r = await etcdctl(via.join(","), "move-leader", transferee);
    return mask(
      `${r.code} ${r.stdout}${r.stderr.split("\n").filter((l) => !l.startsWith("{")).join("\n")}`,
    );
  };
  const out = [
    await move([endpoints[(lead + 1) % 3]]), // a follower: no leader endpoint given
    await move([endpoints[lead]]), // the leader hands over
    await move(endpoints), // every endpoint: the transferee already leads
    await move(endpoints),
  ];
  const after = await statuses(endpoints);
  out.push(mask(after.filter((s) => s.leads).map((s) => s.id).join()));
  return out;
}

itest("leadership: move-leader through a follower, the leader, and every endpoint", async () => {
  await using dir = tempDir({ prefix: "move-leader-" });
  const etcd = await startCluster("etcd", 10, dir.path);
  let expected: string[];
  try {
    expected = await moveLeaderScript(etcd.endpoints);
  } finally {
    await Promise.all(etcd.procs.map((p) => stop(p)));
  }
  const ts = await startCluster(ETCD_TS, 20, dir.path);
  try {
    assert.deepEqual(await moveLeaderScript(ts.endpoints), expected);
  } finally {
    await Promise.all(ts.procs.map((p) => stop(p)));
  }
  assert.equal(expected[0], "128 Error: no leader endpoint given at [<transferee-endpoint>]\n");
  assert.equal(expected[1], "0 Leadership transferred from <leader> to <transferee>\n");
  assert.equal(expected[2], "0 Leadership transferred from <transferee> to <transferee>\n");
  assert.equal(expected[4], "<transferee>");
});

/** The gateway's ready line: its JSON without the timestamp. */
async function readyLine(p: Proc): Promise<Record<string, unknown>> {
  const line = await p.waitFor("ready to proxy client requests", 20_000);
  const { ts: _ts, ...rest } = JSON.parse(line);
  return rest;
}

itest("gateway: flags before `start`, etcd's ready line, etcdctl through it", async () => {
  await using dir = tempDir({ prefix: "gateway-order-" });
  await assertPortsFree("127.0.173.30", [2379, 2380]);
  await assertPortsFree("127.0.173.31", [23790]);
  await assertPortsFree("127.0.173.32", [23790]);
  const member = await startReady(singleMemberFlags("g", "127.0.173.30", `${dir.path}/g`));
  const gateway = (command: string, ip: string) =>
    spawn(command, [
      "gateway",
      "--endpoints=http://127.0.173.30:2379",
      `--listen-addr=${ip}:23790`,
      "start",
    ]);
  const etcdGw = gateway("etcd", "127.0.173.31");
  const tsGw = gateway(ETCD_TS, "127.0.173.32");
  try {
    const [etcdReady, tsReady] = await Promise.all([readyLine(etcdGw), readyLine(tsGw)]);
    assert.deepEqual(tsReady, etcdReady);
    assert.deepEqual(etcdReady.endpoints, ["127.0.173.30:2379"]);
    for (const [ip, value] of [["127.0.173.31", "via-etcd"], ["127.0.173.32", "via-ts"]]) {
      const put = await etcdctl(`${ip}:23790`, "put", "k", value);
      assert.equal(put.stdout, "OK\n", put.stderr);
      const got = await etcdctl(`${ip}:23790`, "get", "k", "--print-value-only");
      assert.equal(got.stdout, `${value}\n`);
    }
  } finally {
    await Promise.all([stop(etcdGw), stop(tsGw), stop(member)]);
  }
});

itest("gateway: bad flags before or after `start` exit as etcd's gateway does", async () => {
  const cases = [
    ["--retry-delay=abc", "start"],
    ["start", "--retry-delay=abc"],
    ["--insecure-discovery", "start"],
    ["--listen-addr"],
    ["--bogus=1", "start", "--endpoints"],
  ];
  for (const args of cases) {
    const [etcd, ts] = await Promise.all([
      run("etcd", ["gateway", ...args]),
      run(ETCD_TS, ["gateway", ...args]),
    ]);
    assert.equal(ts.code, etcd.code, args.join(" "));
    // cobra's layout: the error, the usage (whose flag texts are our own), the error again.
    const [e, t] = [etcd, ts].map((r) => r.stderr.trimEnd().split("\n"));
    assert.equal(t[0], e[0], args.join(" "));
    assert.equal(t.at(-1), e.at(-1), args.join(" "));
    assert.equal(t[2], e[2].replace("etcd gateway", "etcd-ts gateway"), args.join(" "));
    assert.match(e[0], /^Error: /, args.join(" "));
  }
});
