// Two `etcd-ts grpc-proxy start --resolver-prefix` in front of three etcd-ts members
// (127.0.211.10-12), the proxies on 127.0.211.20 and .21: each registers PREFIX/ADDR under a
// lease of --resolver-ttl seconds, member list through either names both, a stopped proxy's key
// expires with its lease and it leaves the lists; then the member a proxy is connected to dies
// and the proxy's reads and watches go on through another. Address block 127.0.211.x.
import assert from "node:assert/strict";
import { makeCluster } from "../../helpers/cluster.ts";
import { etcdctl, spawnEtcdctl } from "../../helpers/etcdctl.ts";
import { until } from "../../helpers/grpc_member.ts";
import { startGrpcProxy } from "../../helpers/grpc_proxy.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { itest, type Proc, stop } from "../../helpers/process.ts";

const P1 = "127.0.211.20:23790";
const P2 = "127.0.211.21:23790";
const PREFIX = "/proxies";

async function proxiesListed(proxy: string): Promise<string[]> {
  const r = await etcdctl(proxy, "member", "list", "-w", "json");
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout);
  // etcd's proxy answers with its peers alone: no header, no IDs, no peer URLs.
  assert.deepEqual(Object.keys(list), ["members"]);
  for (const m of list.members) assert.deepEqual(Object.keys(m).sort(), ["clientURLs", "name"]);
  return list.members.map((m: { clientURLs: string[] }) => m.clientURLs[0]).sort();
}

function proxyArgs(endpoints: string, addr: string): string[] {
  return [
    ...["--endpoints", endpoints, "--listen-addr", addr, "--advertise-client-url", addr],
    ...["--resolver-prefix", PREFIX, "--resolver-ttl", "2"],
  ];
}

async function registration(member: string, proxies: Proc[]): Promise<void> {
  await Promise.all(
    proxies.map((p) => p.waitFor(/ I \| grpcproxy: registered ".*" with 2-second lease$/)),
  );
  await until(async () => (await proxiesListed(P1)).length === 2, "both proxies registered");
  assert.deepEqual(await proxiesListed(P1), [P1, P2]);
  assert.deepEqual(await proxiesListed(P2), [P1, P2]);
  const r = await etcdctl(member, "get", `${PREFIX}/${P1}`, "-w", "json");
  const kv = JSON.parse(r.stdout).kvs[0];
  assert.deepEqual(JSON.parse(atob(kv.value)), {
    Op: 0,
    Addr: P1,
    Metadata: JSON.stringify({ name: Deno.hostname() }),
  });
  // The lease ID as digits: JSON numbers lose precision above 2^53.
  const lease = BigInt(/"lease":(\d+)/.exec(r.stdout)![1]).toString(16);
  const ttl = await etcdctl(member, "lease", "timetolive", lease, "--keys");
  assert.match(
    ttl.stdout,
    /granted with TTL\(2s\), remaining\([0-2]s\), attached keys\(\[\/proxies\/127\.0\.211\.20:23790\]\)/,
  );
}

async function expiry(member: string, proxies: Proc[]): Promise<void> {
  // A write of our own under the prefix, watched from its revision, tells when the watch is in place.
  await etcdctl(member, "put", `${PREFIX}-marker`, "x");
  const rev = JSON.parse((await etcdctl(member, "get", `${PREFIX}-marker`, "-w", "json")).stdout)
    .kvs[0].mod_revision;
  const watch = spawnEtcdctl(member, ["watch", "--prefix", PREFIX, `--rev=${rev}`]);
  try {
    await watch.waitFor(`${PREFIX}-marker`);
    await stop(proxies[1]);
    // Not revoked on the way out, as etcd's proxy: the key stays until its lease runs out.
    const kept = await etcdctl(member, "get", `${PREFIX}/${P2}`, "--keys-only");
    assert.equal(kept.stdout, `${PREFIX}/${P2}\n\n`);
    await watch.waitFor(`${PREFIX}/${P2}`, 15_000);
    assert.equal(watch.stdout[watch.stdout.indexOf(`${PREFIX}/${P2}`) - 1], "DELETE");
  } finally {
    await stop(watch);
  }
  await until(async () => (await proxiesListed(P1)).length === 1, "the stopped proxy delisted");
  assert.deepEqual(await proxiesListed(P1), [P1]);
}

async function failover(members: { clientURL: string; proc?: Proc }[]): Promise<void> {
  const status = JSON.parse((await etcdctl(P1, "endpoint", "status", "-w", "json")).stdout)[0];
  const ids = await Promise.all(members.map(async (m) => {
    const s = JSON.parse((await etcdctl(m.clientURL, "endpoint", "status", "-w", "json")).stdout);
    return String(s[0].Status.header.member_id);
  }));
  const dying = ids.indexOf(String(status.Status.header.member_id));
  assert.ok(dying >= 0);
  const other = members[(dying + 1) % members.length].clientURL;
  await etcdctl(P1, "put", "f", "before");
  const rev = JSON.parse((await etcdctl(P1, "get", "f", "-w", "json")).stdout).kvs[0].mod_revision;
  const watch = spawnEtcdctl(P1, ["watch", "f", `--rev=${rev}`]);
  try {
    await watch.waitFor("before");
    members[dying].proc!.kill("SIGKILL");
    await members[dying].proc!.status;
    members[dying].proc = undefined;
    // The dead member may have been the leader: a linearizable read succeeds once there is one.
    await until(
      async () => (await etcdctl(other, "get", "f", "--command-timeout=2s")).code === 0,
      "a leader among the survivors",
      30_000,
    );
    const put = await etcdctl(other, "put", "f", "after");
    assert.equal(put.code, 0, put.stderr);
    // The watch resumes on another member without losing the event.
    await watch.waitFor("after", 20_000);
    assert.deepEqual(watch.stdout, ["PUT", "f", "before", "PUT", "f", "after"]);
    const get = await etcdctl(P1, "get", "f", "--print-value-only");
    assert.equal(get.stdout, "after\n", get.stderr);
  } finally {
    await stop(watch);
  }
}

itest(
  "grpc-proxy: resolver registration, member lists, expiry; failover to another member",
  async () => {
    await assertPortsFree("127.0.211.20", [23790]);
    await assertPortsFree("127.0.211.21", [23790]);
    const c = await makeCluster("127.0.211", 3);
    for (let i = 0; i < 3; i++) c.start(i);
    const proxies: Proc[] = [];
    try {
      await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
      proxies.push(await startGrpcProxy(proxyArgs(c.endpoints, P1)));
      proxies.push(await startGrpcProxy(proxyArgs(c.endpoints, P2)));
      await registration(c.members[0].clientURL, proxies);
      await expiry(c.members[0].clientURL, proxies);
      await failover(c.members);
    } finally {
      await Promise.all(proxies.map((p) => stop(p)));
      await c.stopAll();
    }
  },
);
