// `etcd-ts grpc-proxy start` beside etcd 3.4's own `etcd grpc-proxy start`, both in front of a
// real three-member etcd 3.4 cluster (127.0.213.1-3), ours on 127.0.213.20 and etcd's on .21,
// registered under one prefix: the same member lists, registration records, cached reads,
// watch coalescing seen in the members' watcher counts, compacted watches, HTTP answers; and the
// command line's refusals byte for byte. Address block 127.0.213.x.
import assert from "node:assert/strict";
import net from "node:net";
import { etcdctl, spawnEtcdctl } from "../../helpers/etcdctl.ts";
import { until } from "../../helpers/grpc_member.ts";
import { metricSum, startGrpcProxy } from "../../helpers/grpc_proxy.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { ETCD_TS, itest, memberFlags, type Proc, run, spawn, stop } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

const ip = (i: number) => `127.0.213.${i}`;
const OURS = `${ip(20)}:23790`;
const THEIRS = `${ip(21)}:23790`;
const MEMBERS = [1, 2, 3].map((i) => `http://${ip(i)}:2379`);
const INITIAL_CLUSTER = [1, 2, 3].map((i) => `m${i}=http://${ip(i)}:2380`).join(",");

function startMember(i: number, dataDir: string): Proc {
  const urls = { clientURL: `http://${ip(i)}:2379`, peerURL: `http://${ip(i)}:2380` };
  return spawn("etcd", [
    ...memberFlags({ name: `m${i}`, ...urls, dataDir }),
    ...["--initial-cluster", INITIAL_CLUSTER, "--initial-cluster-token", "grpc-proxy-test"],
  ]);
}

const proxyArgs = (addr: string) => [
  ...["--endpoints", MEMBERS.join(","), "--listen-addr", addr, "--advertise-client-url", addr],
  ...["--resolver-prefix", "/gp", "--resolver-ttl", "3"],
];

async function ctl(endpoint: string, ...args: string[]): Promise<string> {
  const r = await etcdctl(endpoint, ...args);
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")} via ${endpoint}: ${r.stderr}`);
  return r.stdout;
}

async function listed(proxy: string) {
  const list = JSON.parse(await ctl(proxy, "member", "list", "-w", "json"));
  list.members.sort((a: { clientURLs: string[] }, b: { clientURLs: string[] }) =>
    a.clientURLs[0].localeCompare(b.clientURLs[0])
  );
  return list;
}

async function registrations(): Promise<void> {
  await until(async () => (await listed(OURS)).members.length === 2, "ours lists both");
  await until(async () => (await listed(THEIRS)).members.length === 2, "etcd's lists both");
  assert.deepEqual(await listed(OURS), await listed(THEIRS));
  const kvs = JSON.parse(await ctl(MEMBERS[0], "get", "--prefix", "/gp/", "-w", "json")).kvs;
  const records = kvs.map((
    kv: { key: string; value: string },
  ) => [atob(kv.key), JSON.parse(atob(kv.value))]);
  assert.deepEqual(
    records,
    [OURS, THEIRS].map((addr) => [
      `/gp/${addr}`,
      { Op: 0, Addr: addr, Metadata: JSON.stringify({ name: Deno.hostname() }) },
    ]),
  );
}

async function kvAndCache(): Promise<void> {
  await ctl(OURS, "put", "c", "one");
  const ours = JSON.parse(await ctl(OURS, "get", "c", "-w", "json"));
  const theirs = JSON.parse(await ctl(THEIRS, "get", "c", "-w", "json"));
  assert.deepEqual(ours.kvs, theirs.kvs);
  assert.equal(ours.header.cluster_id, theirs.header.cluster_id);
  // Both cached "one" on the way back; a write around them stays unseen by serializable reads.
  await ctl(MEMBERS[2], "put", "c", "two");
  for (const proxy of [OURS, THEIRS]) {
    assert.equal(await ctl(proxy, "get", "c", "--print-value-only", "--consistency=s"), "one\n");
    assert.equal(await ctl(proxy, "get", "c", "--print-value-only"), "two\n");
    assert.equal(await ctl(proxy, "get", "c", "--print-value-only", "--consistency=s"), "two\n");
  }
}

async function coalescing(): Promise<void> {
  const watchers = () =>
    metricSum(MEMBERS.map((m) => `${m}/metrics`), "etcd_debugging_mvcc_watcher_total");
  const before = await watchers();
  const clients: Proc[] = [];
  try {
    for (const [proxy, total] of [[OURS, before + 1], [THEIRS, before + 2]] as const) {
      for (let i = 0; i < 4; i++) clients.push(spawnEtcdctl(proxy, ["watch", "w"]));
      // Four clients' watches: one more watcher on the members, for either proxy.
      await until(async () => await watchers() === total, `one upstream watcher for ${proxy}`);
    }
    await ctl(OURS, "put", "w", "v");
    await Promise.all(clients.map((c) => c.waitFor((l) => l === "v")));
  } finally {
    await Promise.all(clients.map((c) => stop(c)));
  }
  await until(async () => await watchers() === before, "the upstream watchers gone");
}

async function compactedWatch(): Promise<void> {
  const rev = JSON.parse(await ctl(OURS, "get", "c", "-w", "json")).header.revision;
  await ctl(OURS, "compact", String(rev));
  const [ours, theirs] = await Promise.all(
    [OURS, THEIRS].map((p) => etcdctl(p, "watch", "c", "--rev=2")),
  );
  assert.deepEqual([ours.code, ours.stdout, ours.stderr], [
    theirs.code,
    theirs.stdout,
    theirs.stderr,
  ]);
  assert.match(ours.stderr, /required revision has been compacted/);
}

async function http(): Promise<void> {
  const get = async (url: string) => {
    const r = await fetch(url);
    return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
  };
  for (const path of ["/health", "/v3/kv/range", "/version"]) {
    assert.deepEqual(
      await get(`http://${OURS}${path}`),
      await get(`http://${THEIRS}${path}`),
      path,
    );
  }
  // /metrics is a member's own, through either.
  for (const proxy of [OURS, THEIRS]) {
    const m = await get(`http://${proxy}/metrics`);
    assert.equal(m.type, "text/plain; version=0.0.4");
    assert.match(m.body, /^etcd_server_has_leader 1$/m);
  }
}

/** --max-send-bytes and --max-recv-bytes: both proxies refuse the same calls, in the same words. */
async function messageLimits(proxies: Proc[]): Promise<void> {
  const limited = [ip(22), ip(23)].map((host) => `${host}:23790`);
  const limits = ["--max-send-bytes", "100", "--max-recv-bytes", "200"];
  proxies.push(
    await startGrpcProxy(["--endpoints", MEMBERS[0], "--listen-addr", limited[0], ...limits]),
  );
  proxies.push(
    await startGrpcProxy(["--endpoints", MEMBERS[0], "--listen-addr", limited[1], ...limits], {
      etcd: true,
    }),
  );
  const value = "x".repeat(150);
  await ctl(MEMBERS[0], "put", "big", value.repeat(2));
  const last = (r: { stderr: string }) => r.stderr.trimEnd().split("\n").at(-1);
  const [putOurs, putTheirs] = await Promise.all(
    limited.map((p) => etcdctl(p, "put", "big", value)),
  );
  assert.equal(last(putOurs), last(putTheirs));
  assert.match(last(putOurs)!, /trying to send message larger than max \(158 vs\. 100\)/);
  const [getOurs, getTheirs] = await Promise.all(limited.map((p) => etcdctl(p, "get", "big")));
  assert.equal(last(getOurs), last(getTheirs));
  assert.match(last(getOurs)!, /grpc: received message larger than max \(3\d\d vs\. 200\)/);
}

/** --namespace: the same commands through both proxies give the same answers. */
async function namespaces(proxies: Proc[]): Promise<void> {
  const spaced = [ip(24), ip(25)].map((host) => `${host}:23790`);
  for (const [addr, etcd] of [[spaced[0], false], [spaced[1], true]] as const) {
    const args = [
      "--endpoints",
      MEMBERS.join(","),
      "--listen-addr",
      addr,
      "--namespace",
      `n${etcd ? 1 : 0}/`,
    ];
    proxies.push(await startGrpcProxy(args, { etcd }));
  }
  const answers = async (proxy: string) => {
    const out: string[] = [];
    const run = async (...args: string[]) => {
      const r = await etcdctl(proxy, ...args);
      // Revisions and IDs differ between the two runs; keys, values and counts must not.
      out.push(
        r.stdout.replace(/"(revision|\w+_revision|raft_term|member_id|lease)":\d+/g, '"$1":0'),
        r.stderr,
      );
    };
    await run("put", "a", "1");
    await run("put", "b", "2", "--prev-kv", "-w", "json");
    await run("get", "", "--from-key", "-w", "json");
    await run("get", "a", "--prefix", "--keys-only");
    await run("del", "b", "--prev-kv");
    await run("get", "", "--prefix");
    return out;
  };
  assert.deepEqual(await answers(spaced[0]), await answers(spaced[1]));
  assert.equal(await ctl(MEMBERS[0], "get", "n0/a", "--print-value-only"), "1\n");
  assert.equal(await ctl(MEMBERS[0], "get", "n1/a", "--print-value-only"), "1\n");
}

itest("grpc-proxy beside etcd's, in front of an etcd 3.4 cluster", async () => {
  for (const i of [1, 2, 3]) await assertPortsFree(ip(i), [2379, 2380]);
  for (const i of [20, 21, 22, 23, 24, 25]) await assertPortsFree(ip(i), [23790]);
  const members = [1, 2, 3].map((i) => startMember(i, tempDir().path));
  const proxies: Proc[] = [];
  try {
    await Promise.all(members.map((m) => m.waitFor("ready to serve client requests", 30_000)));
    proxies.push(await startGrpcProxy(proxyArgs(OURS)));
    proxies.push(await startGrpcProxy(proxyArgs(THEIRS), { etcd: true }));
    await registrations();
    await kvAndCache();
    await coalescing();
    await compactedWatch();
    await http();
    await messageLimits(proxies);
    await namespaces(proxies);
    // Ours stopped, its registration runs out with its lease.
    await stop(proxies[0]);
    await until(
      async () =>
        (await ctl(MEMBERS[0], "get", "--prefix", "/gp/", "--keys-only")).trim() ===
          `/gp/${THEIRS}`,
      "our key expired",
    );
  } finally {
    await Promise.all(proxies.map((p) => stop(p)));
    await Promise.all(members.map((m) => stop(m)));
  }
});

/** Both programs' `grpc-proxy start ARGS`: exit code and stderr. */
async function both(args: string[]) {
  const go = await run("etcd", ["grpc-proxy", "start", ...args]);
  const ts = await run(ETCD_TS, ["grpc-proxy", "start", ...args]);
  return { go, ts };
}

itest("grpc-proxy start: etcd's refusals, word for word", async () => {
  // Checked before anything starts: the whole of stderr.
  for (
    const args of [
      ["--resolver-prefix=/p"],
      ["--resolver-ttl=3"],
      ["--resolver-prefix=/p", "--resolver-ttl=3", "--advertise-client-url="],
      ["--listen-addr=nowhere"],
    ]
  ) {
    const { go, ts } = await both(args);
    assert.deepEqual([ts.code, ts.stderr], [go.code, go.stderr], args.join(" "));
  }
  // pflag's refusals: the error line before and after the usage (ours names etcd-ts).
  for (
    const args of [["--resolver-ttl=x"], ["--max-concurrent-streams=-1"], ["--bogus"], [
      "--debug=maybe",
    ]]
  ) {
    const { go, ts } = await both(args);
    const ends = (s: string) => [s.split("\n")[0], s.split("\n").at(-1)];
    assert.deepEqual([ts.code, ...ends(ts.stderr)], [go.code, ...ends(go.stderr)], args.join(" "));
  }
  // A port in use.
  await assertPortsFree(ip(30), [23790]);
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(23790, ip(30), () => r()));
  try {
    const { go, ts } = await both([
      "--listen-addr",
      `${ip(30)}:23790`,
      "--endpoints",
      `${ip(31)}:2379`,
    ]);
    assert.deepEqual([ts.code, ts.stderr.split("\n").at(-2)], [
      go.code,
      go.stderr.split("\n").at(-2),
    ]);
  } finally {
    holder.close();
  }
  // The same flags, types and defaults in --help (the descriptions are our own words).
  const flags = (help: string) =>
    help.split("\n").filter((l) => l.trimStart().startsWith("-")).map((l) =>
      `${/--\S+( \w+)?/.exec(l)![0]} ${/\(default .*\)$/.exec(l)?.[0] ?? ""}`
    );
  const go = await run("etcd", ["grpc-proxy", "start", "--help"]);
  const ts = await run(ETCD_TS, ["grpc-proxy", "start", "--help"]);
  assert.deepEqual(
    flags(ts.stdout),
    flags(go.stdout).map((f) => f.replace(/\(default value is [^)]*\) /, "")),
  );
});
