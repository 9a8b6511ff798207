// `etcd-ts gateway start` in front of a real 3-member etcd 3.4 cluster (127.0.80.1-3) and of a
// plain TCP backend: etcdctl through it, a killed member skipped and re-activated, half-close,
// start-up failures with etcd's texts. Address block 127.0.80.x.
import assert from "node:assert/strict";
import net from "node:net";
import { ETCD_TS, itest, memberFlags, type Proc, run, spawn, stop } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { etcdctl } from "../../helpers/etcdctl.ts";

const ip = (i: number) => `127.0.80.${i}`;
const GW = `${ip(10)}:23790`;
const INITIAL_CLUSTER = [1, 2, 3].map((i) => `m${i}=http://${ip(i)}:2380`).join(",");

function memberArgs(i: number, dataDir: string): string[] {
  const urls = { clientURL: `http://${ip(i)}:2379`, peerURL: `http://${ip(i)}:2380` };
  return [
    ...memberFlags({ name: `m${i}`, ...urls, dataDir }),
    "--initial-cluster",
    INITIAL_CLUSTER,
    "--initial-cluster-token",
    "gateway-test",
  ];
}

const startMember = (i: number, dataDir: string) => spawn("etcd", memberArgs(i, dataDir));

function startGateway(args: string[]): Proc {
  return spawn(ETCD_TS, ["gateway", "start", ...args]);
}

/** The zap JSON lines the gateway logged with this msg. */
const logged = (p: Proc, msg: string) =>
  p.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((e) => e.msg === msg);

/** The member that answered one etcdctl connection through the gateway. */
async function answeringMember(): Promise<string> {
  const r = await etcdctl(GW, "endpoint", "status", "-w", "json");
  assert.equal(r.code, 0, r.stderr);
  return String(JSON.parse(r.stdout)[0].Status.header.member_id);
}

itest(
  "gateway: etcdctl through the gateway; a killed member is skipped, then re-activated",
  async () => {
    await assertPortsFree(ip(10), [23790]);
    for (const i of [1, 2, 3]) await assertPortsFree(ip(i), [2379, 2380]);
    const dirs = [1, 2, 3].map(() => tempDir().path);
    const members = [1, 2, 3].map((i) => startMember(i, dirs[i - 1]));
    let gateway: Proc | undefined;
    try {
      await Promise.all(members.map((m) => m.waitFor("ready to serve client requests", 30_000)));
      gateway = startGateway([
        "--endpoints",
        `http://${ip(1)}:2379,${ip(2)}:2379`,
        "--endpoints",
        `https://${ip(3)}:2379`,
        "--listen-addr",
        GW,
        "--retry-delay",
        "1s",
      ]);
      const ready = JSON.parse(await gateway.waitFor("ready to proxy client requests"));
      assert.equal(ready.level, "info");
      assert.equal(ready.caller, "tcpproxy/userspace.go:90");
      assert.equal(typeof ready.ts, "number");
      assert.deepEqual(ready.endpoints, [1, 2, 3].map((i) => `${ip(i)}:2379`));

      const put = await etcdctl(GW, "put", "foo", "bar");
      assert.equal(put.stdout, "OK\n", put.stderr);
      assert.equal((await etcdctl(GW, "get", "foo")).stdout, "foo\nbar\n");
      // Round robin: successive connections reach every member (one etcdctl run may open
      // more than one connection, so allow a few runs).
      const seen = new Set<string>();
      for (let n = 0; n < 12 && seen.size < 3; n++) seen.add(await answeringMember());
      assert.equal(seen.size, 3);

      members[1].kill("SIGKILL");
      await members[1].status;
      for (let n = 0; n < 6; n++) {
        const r = await etcdctl(GW, "get", "foo", "--print-value-only");
        assert.equal(r.stdout, "bar\n", r.stderr);
      }
      const down = logged(gateway, "deactivated endpoint");
      assert.equal(down.length, 1);
      assert.deepEqual(
        { ...down[0], ts: 0 },
        {
          level: "warn",
          ts: 0,
          caller: "tcpproxy/userspace.go:183",
          msg: "deactivated endpoint",
          address: `${ip(2)}:2379`,
          interval: 1,
          error: `dial tcp ${ip(2)}:2379: connect: connection refused`,
        },
      );
      await gateway.waitFor("failed to activate endpoint (stay inactive for another interval)");

      members[1] = startMember(2, dirs[1]);
      await members[1].waitFor("ready to serve client requests", 30_000);
      const up = JSON.parse(await gateway.waitFor(/"msg":"activated"/, 10_000));
      assert.equal(up.address, `${ip(2)}:2379`);
      const again = new Set<string>();
      for (let n = 0; n < 12 && again.size < 3; n++) again.add(await answeringMember());
      assert.deepEqual([...again].sort(), [...seen].sort());
    } finally {
      if (gateway) await stop(gateway);
      await Promise.all(members.map((m) => stop(m)));
      for (const d of dirs) await Deno.remove(d, { recursive: true });
    }
  },
);

itest("gateway: a half-closed client still gets the whole answer", async () => {
  await assertPortsFree(ip(20), [2379]);
  await assertPortsFree(ip(10), [23790]);
  // Answers only after the client has finished sending, then closes.
  const backend = net.createServer({ allowHalfOpen: true }, (sock) => {
    let n = 0;
    sock.on("data", (d) => n += d.length);
    sock.on("end", () => sock.end(`got ${n} bytes`));
  });
  await new Promise<void>((r) => backend.listen(2379, ip(20), r));
  const gateway = startGateway(["--endpoints", `${ip(20)}:2379`, "--listen-addr", GW]);
  try {
    await gateway.waitFor("ready to proxy client requests");
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = net.connect({ host: ip(10), port: 23790, allowHalfOpen: true });
      let text = "";
      sock.on("data", (d) => text += d);
      sock.on("end", () => resolve(text));
      sock.on("error", reject);
      sock.end("x".repeat(100_000));
    });
    assert.equal(answer, "got 100000 bytes");
  } finally {
    await stop(gateway);
    await new Promise((r) => backend.close(r));
  }
});

itest("gateway: start-up failures print etcd's messages", async () => {
  await assertPortsFree(ip(10), [23790]);
  const gw = (...args: string[]) => run(ETCD_TS, ["gateway", ...args]);
  const listen = ["--listen-addr", GW];
  const cases: [string[], number, string, string][] = [
    [
      ["start", "--endpoints", "127.0.5.11", ...listen],
      1,
      `error parsing endpoint "127.0.5.11"`,
      "",
    ],
    [["start", "--listen-addr", ip(10)], 1, `failed to validate listen address: ${ip(10)}\n`, ""],
    [["start", "--listen-addr", ":23790"], 1, "failed to resolve listen host: \n", ""],
    [
      ["start", "--endpoints", `http://${GW}`, ...listen],
      1,
      `SRV or endpoint (${GW}->${GW}) should not resolve to the gateway listen addr (${GW})\n`,
      "",
    ],
    [["start", "--endpoints", "", ...listen], 1, "no endpoints found\n", ""],
    [
      ["start", "--endpoints", `${ip(20)}:2379`, "--listen-addr", "192.0.2.1:23790"],
      1,
      "",
      "listen tcp 192.0.2.1:23790: bind: cannot assign requested address\n",
    ],
  ];
  for (const [args, code, stdout, stderr] of cases) {
    const r = await gw(...args);
    assert.deepEqual([r.code, r.stdout, r.stderr], [code, stdout, stderr], args.join(" "));
  }
  // A port already taken.
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(23790, ip(10), r));
  try {
    const r = await gw("start", "--endpoints", `${ip(20)}:2379`, ...listen);
    assert.deepEqual([r.code, r.stdout, r.stderr], [
      1,
      "",
      `listen tcp ${GW}: bind: address already in use\n`,
    ]);
  } finally {
    await new Promise((r) => holder.close(r));
  }
  // `gateway` alone prints its help; flags only `gateway start` knows are refused.
  const help = await gw();
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^gateway related command\n/);
  const unknown = await gw("start", "--insecure-skip-tls-verify");
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^Error: unknown flag: --insecure-skip-tls-verify\nUsage:\n/);
  assert.ok(unknown.stderr.endsWith("\nunknown flag: --insecure-skip-tls-verify"));
});
