// `etcd-ts grpc-proxy start` in front of a three-member etcd-ts cluster (127.0.210.10-12), the
// proxy on 127.0.210.20: etcdctl's commands through it unchanged, the range cache seen in the
// proxy's metrics and in the members' request counts, many clients' watches on one upstream
// watcher, leases, the Election and Lock services passed through, the etcd3 npm client, auth.
// Address block 127.0.210.x.
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import { makeCluster } from "../../helpers/cluster.ts";
import { etcdctl, etcdctlWith, spawnEtcdctl } from "../../helpers/etcdctl.ts";
import { GrpcMember, until } from "../../helpers/grpc_member.ts";
import { metricSum, startGrpcProxy } from "../../helpers/grpc_proxy.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { itest, type Proc, stop } from "../../helpers/process.ts";

const PROXY = "127.0.210.20:23790";
const b = (s: string) => new TextEncoder().encode(s);
const text = (v: Uint8Array) => new TextDecoder().decode(v);

async function ctl(...args: string[]): Promise<string> {
  const r = await etcdctl(PROXY, ...args);
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const proxyMetric = (name: string) => metricSum([`http://${PROXY}/proxy/metrics`], name);

/** The members' own count of a gRPC method's calls (the proxy's upstream traffic). */
const upstreamCalls = (members: string[], family: string, method: string) =>
  metricSum(members.map((m) => `${m}/metrics`), family, { grpc_method: method });

async function withProxiedCluster(fn: (members: string[]) => Promise<void>): Promise<void> {
  await assertPortsFree("127.0.210.20", [23790]);
  const c = await makeCluster("127.0.210", 3);
  for (let i = 0; i < 3; i++) c.start(i);
  let proxy: Proc | undefined;
  try {
    await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
    proxy = await startGrpcProxy(["--endpoints", c.endpoints, "--listen-addr", PROXY]);
    await fn(c.members.map((m) => m.clientURL));
  } finally {
    if (proxy) await stop(proxy);
    await c.stopAll();
  }
}

async function kvThroughProxy(members: string[]): Promise<void> {
  assert.equal(await ctl("put", "foo", "bar"), "OK\n");
  assert.equal(await ctl("get", "foo"), "foo\nbar\n");
  const direct = await etcdctl(members[2], "get", "foo", "-w", "json");
  assert.deepEqual(
    JSON.parse(await ctl("get", "foo", "-w", "json")).kvs,
    JSON.parse(direct.stdout).kvs,
  );
  const txn = await etcdctlWith({ stdin: 'value("foo") = "bar"\n\nput t1 yes\n\nput t1 no\n\n' })(
    PROXY,
    "txn",
  );
  assert.equal(txn.stdout, "SUCCESS\n\nOK\n", txn.stderr);
  assert.equal(await ctl("get", "t1", "--print-value-only"), "yes\n");
  assert.equal(await ctl("del", "t", "--prefix"), "1\n");
  assert.equal(await ctl("get", "t", "--prefix"), "");
  // Compaction passes through; reads below it are refused as the members refuse them.
  const rev = JSON.parse(await ctl("get", "foo", "-w", "json")).header.revision;
  assert.equal(await ctl("compact", String(rev)), `compacted revision ${rev}\n`);
  for (const consistency of ["l", "s"]) {
    const old = await etcdctl(
      PROXY,
      "get",
      "foo",
      `--rev=${rev - 1}`,
      `--consistency=${consistency}`,
    );
    assert.match(old.stderr, /etcdserver: mvcc: required revision has been compacted/);
  }
  // Status and member list: a member's status; the proxy lists itself (no resolver prefix).
  const status = JSON.parse(await ctl("endpoint", "status", "-w", "json"))[0];
  assert.equal(status.Endpoint, PROXY);
  assert.equal(status.Status.version, "3.4.23");
  const list = JSON.parse(await ctl("member", "list", "-w", "json"));
  assert.deepEqual(list, { members: [{ name: Deno.hostname(), clientURLs: ["127.0.0.1:23790"] }] });
}

async function cacheThroughProxy(members: string[]): Promise<void> {
  await ctl("put", "c", "one");
  assert.equal(await ctl("get", "c", "--print-value-only"), "one\n"); // cached on the way back
  const [hits, misses] = [
    await proxyMetric("etcd_grpc_proxy_cache_hits_total"),
    await proxyMetric("etcd_grpc_proxy_cache_misses_total"),
  ];
  const ranges = await upstreamCalls(members, "grpc_server_started_total", "Range");
  assert.equal(await ctl("get", "c", "--print-value-only", "--consistency=s"), "one\n");
  assert.equal(await proxyMetric("etcd_grpc_proxy_cache_hits_total"), hits + 1);
  assert.equal(await proxyMetric("etcd_grpc_proxy_cache_misses_total"), misses);
  assert.equal(await upstreamCalls(members, "grpc_server_started_total", "Range"), ranges);
  assert.ok(await proxyMetric("etcd_grpc_proxy_cache_keys_total") >= 1);
  // A write that bypasses the proxy is not seen by its serializable reads (they are the cache's)
  // until a linearizable read through the proxy refreshes the entry, as with etcd's proxy.
  assert.equal((await etcdctl(members[0], "put", "c", "two")).code, 0);
  assert.equal(await ctl("get", "c", "--print-value-only", "--consistency=s"), "one\n");
  assert.equal(await ctl("get", "c", "--print-value-only"), "two\n");
  assert.equal(await ctl("get", "c", "--print-value-only", "--consistency=s"), "two\n");
  // A write through the proxy drops what it cached for the key: the next read is a miss.
  await ctl("put", "c", "three");
  const missed = await proxyMetric("etcd_grpc_proxy_cache_misses_total");
  assert.equal(await ctl("get", "c", "--print-value-only", "--consistency=s"), "three\n");
  assert.equal(await proxyMetric("etcd_grpc_proxy_cache_misses_total"), missed + 1);
}

async function watchesCoalesce(members: string[]): Promise<void> {
  const upstream = async () => ({
    streams: await upstreamCalls(members, "grpc_server_started_total", "Watch"),
    ended: await upstreamCalls(members, "grpc_server_handled_total", "Watch"),
    creates: await upstreamCalls(members, "grpc_server_msg_received_total", "Watch"),
  });
  const before = await upstream();
  const watchers = Array.from({ length: 5 }, () => spawnEtcdctl(PROXY, ["watch", "w"]));
  try {
    await until(
      async () => await proxyMetric("etcd_grpc_proxy_watchers_coalescing_total") === 4,
      "five watches share one upstream watcher",
    );
    // One stream and one create request reached the cluster for the five watches.
    assert.deepEqual(await upstream(), {
      ...before,
      streams: before.streams + 1,
      creates: before.creates + 1,
    });
    const events = await proxyMetric("etcd_grpc_proxy_events_coalescing_total");
    await ctl("put", "w", "v1");
    await Promise.all(watchers.map((w) => w.waitFor((l) => l === "v1", 10_000)));
    for (const w of watchers) assert.deepEqual(w.stdout.slice(-3), ["PUT", "w", "v1"]);
    assert.equal(await proxyMetric("etcd_grpc_proxy_events_coalescing_total"), events + 4);
  } finally {
    await Promise.all(watchers.map((w) => stop(w)));
  }
  // The last client gone, the upstream watcher and its stream go too.
  await until(
    async () => (await upstream()).ended === before.ended + 1,
    "the upstream watch stream ended",
  );
  assert.equal(await proxyMetric("etcd_grpc_proxy_watchers_coalescing_total"), 0);
}

async function leasesThroughProxy(): Promise<void> {
  const id =
    /lease ([0-9a-f]+) granted with TTL\(30s\)/.exec(await ctl("lease", "grant", "30"))![1];
  await ctl("put", "leased", "v", `--lease=${id}`);
  assert.match(await ctl("lease", "timetolive", id, "--keys"), /attached keys\(\[leased\]\)/);
  assert.ok((await ctl("lease", "list")).includes(id));
  assert.equal(
    await ctl("lease", "keep-alive", "--once", id),
    `lease ${id} keepalived with TTL(30)\n`,
  );
  // A long-lived keep-alive: several answers on one stream.
  const keeper = spawnEtcdctl(PROXY, ["lease", "keep-alive", id]);
  try {
    await keeper.waitFor((l) => l.includes("keepalived"), 15_000);
    await until(
      () => Promise.resolve(keeper.stdout.filter((l) => l.includes("keepalived")).length >= 2),
      "a second keep-alive",
      20_000,
    );
  } finally {
    await stop(keeper);
  }
  assert.equal(await ctl("lease", "revoke", id), `lease ${id} revoked\n`);
  assert.equal(await ctl("get", "leased"), "");
  const gone = await etcdctl(PROXY, "lease", "keep-alive", "--once", id);
  assert.match(gone.stderr, /requested lease not found/);
}

async function electionAndLock(): Promise<void> {
  // etcdctl's client-side recipes: KV, Watch and Lease through the proxy.
  const leader = spawnEtcdctl(PROXY, ["elect", "e1", "alice"]);
  const observer = spawnEtcdctl(PROXY, ["elect", "-l", "e1"]);
  try {
    await leader.waitFor("alice", 15_000);
    await observer.waitFor("alice", 15_000);
    assert.match(observer.stdout[0], /^e1\/[0-9a-f]+$/);
  } finally {
    await Promise.all([stop(leader), stop(observer)]);
  }
  const locked = await ctl("lock", "l1", "echo", "held");
  assert.equal(locked, "held\n");
  // The services themselves, through the proxy.
  const g = new GrpcMember(PROXY);
  try {
    const ok = <T>(a: { ok: T } | { error: unknown }): T => {
      if (!("ok" in a)) throw new Error(JSON.stringify(a));
      return a.ok;
    };
    const lease = ok(await g.call("etcdserverpb.Lease", "LeaseGrant", { TTL: 30 })).ID;
    const observe = g.stream("v3electionpb.Election", "Observe", { name: b("e2") });
    const won = ok(
      await g.call("v3electionpb.Election", "Campaign", { name: b("e2"), lease, value: b("x") }),
    );
    await observe.received(1);
    assert.equal(text(observe.messages[0].kv.value), "x");
    const asked = ok(await g.call("v3electionpb.Election", "Leader", { name: b("e2") }));
    assert.equal(text(asked.kv.key), text(won.leader.key));
    ok(await g.call("v3electionpb.Election", "Resign", { leader: won.leader }));
    observe.cancel();
    const lock = ok(await g.call("v3lockpb.Lock", "Lock", { name: b("l2"), lease }));
    assert.ok(text(lock.key).startsWith("l2/"));
    ok(await g.call("v3lockpb.Lock", "Unlock", { key: lock.key }));
    const promote = await g.call("etcdserverpb.Cluster", "MemberPromote", { ID: 1n });
    assert.deepEqual(promote, { error: { code: 2, details: "not implemented" } });
  } finally {
    g.close();
  }
}

/** The `etcd3` npm client (grpc-js) through the proxy: KV, a prefix watch, a lease, a lock. */
async function etcd3ThroughProxy(): Promise<void> {
  const c = new Etcd3({ hosts: `http://${PROXY}` });
  try {
    await c.put("n/a").value("1");
    assert.equal(await c.get("n/a").string(), "1");
    const watcher = await c.watch().prefix("n/").withPreviousKV().create();
    const seen = new Promise<string>((resolve) => {
      watcher.on("put", (kv, prev) => resolve(`${kv.key}=${kv.value} prev=${prev?.value}`));
    });
    await c.put("n/a").value("2");
    assert.equal(await seen, "n/a=2 prev=1");
    await watcher.cancel();
    const lease = c.lease(30);
    await lease.put("n/leased").value("v");
    assert.equal((await lease.keepaliveOnce()).TTL, "30");
    await lease.revoke();
    assert.equal(await c.get("n/leased").string(), null);
    assert.equal(await c.lock("n/lock").do(() => Promise.resolve("locked")), "locked");
  } finally {
    c.close();
  }
}

async function authThroughProxy(): Promise<void> {
  for (
    const args of [["user", "add", "root:pw"], ["user", "add", "alice:pw"], ["role", "add", "r"]]
  ) {
    await ctl(...args);
  }
  await ctl("role", "grant-permission", "r", "readwrite", "a", "--prefix");
  await ctl("user", "grant-role", "alice", "r");
  assert.equal(await ctl("auth", "enable"), "Authentication Enabled\n");
  try {
    // Each call carries alice's token through the proxy to the members.
    const alice = (...args: string[]) => etcdctl(PROXY, "--user=alice:pw", ...args);
    assert.equal((await alice("put", "a1", "v")).stdout, "OK\n");
    assert.equal((await alice("get", "a1", "--print-value-only")).stdout, "v\n");
    assert.match((await alice("get", "b1")).stderr, /Error: etcdserver: permission denied/);
    assert.match(
      (await etcdctl(PROXY, "get", "a1")).stderr,
      /Error: etcdserver: user name is empty/,
    );
    // A watch alice may not read is refused with the cluster's reason, as etcd's proxy does.
    const refused = await alice("watch", "b1");
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /^watch was canceled \(etcdserver: permission denied\)$/m);
  } finally {
    assert.equal(await ctl("--user=root:pw", "auth", "disable"), "Authentication Disabled\n");
  }
}

itest(
  "grpc-proxy: etcdctl through the proxy; cache; coalesced watches; leases; election, lock; auth",
  async () => {
    await withProxiedCluster(async (members) => {
      await kvThroughProxy(members);
      await cacheThroughProxy(members);
      await watchesCoalesce(members);
      await leasesThroughProxy();
      await electionAndLock();
      await etcd3ThroughProxy();
      await authThroughProxy();
    });
  },
);
