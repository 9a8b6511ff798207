// Snapshots across etcd 3.4 and etcd-ts, both ways, with their own tools: etcd 3.4 is written
// (overwrites, a txn, deletions, leases with keys, a compaction, users, roles, auth on), saved
// with `etcdctl snapshot save`, read by `etcd-ts snapshot status`, restored with `etcd-ts
// snapshot restore`, and served by etcd-ts; etcd-ts is saved with `etcdctl snapshot save` and
// with `etcd-ts snapshot save`, those files read by `etcdctl snapshot status` and restored with
// `etcdctl snapshot restore`, and served by etcd 3.4. Every member answers with the same keys
// (create/mod revisions, versions, at every revision since the compaction), leases, users,
// roles and HashKV. Address block 127.0.130.x.
import assert from "node:assert/strict";
import { messages } from "../../src/pb/mod.ts";
import { computeClusterId, computeMemberId } from "../../src/server/mod.ts";
import { etcdWalSnapshots, readEtcdWal } from "../../src/storage/mod.ts";
import {
  itest,
  type Proc,
  run,
  singleMemberFlags,
  startReady,
  startReadyEtcd,
  stop,
} from "../helpers/process.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import { tempDir } from "../helpers/tmp.ts";

const IP = { etcd: "127.0.130.1", ts: "127.0.130.2", back: "127.0.130.3" };
const ep = (ip: string) => `http://${ip}:2379`;
const ROOT = "--user=root:rootpw";

async function ok(endpoint: string, ...args: string[]): Promise<string> {
  const r = await etcdctl(endpoint, ROOT, ...args);
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")} on ${endpoint}: ${r.stderr}`);
  return r.stdout;
}

async function etcdTs(...args: string[]) {
  const r = await run(new URL("../../scripts/etcd-ts", import.meta.url).pathname, args);
  assert.equal(r.code, 0, `etcd-ts ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const ctl = async (...args: string[]) => {
  const r = await run("etcdctl", args, { env: { ETCDCTL_API: "3" } });
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};

async function write(e: string): Promise<void> {
  for (let i = 0; i < 12; i++) await ok(e, "put", `k${i % 5}`, `v${i}`);
  const r = await run("etcdctl", [`--endpoints=${e}`, "txn"], {
    env: { ETCDCTL_API: "3" },
    stdin: "\nput t1 x\nput t2 y\ndel k0\n\n\n",
  });
  assert.equal(r.code, 0, r.stderr);
  const lease = (await ok(e, "lease", "grant", "600")).match(/lease ([0-9a-f]+) granted/)![1];
  await ok(e, "lease", "grant", "3000");
  await ok(e, "put", "leased-1", "a", `--lease=${lease}`);
  await ok(e, "put", "leased-2", "b", `--lease=${lease}`);
  await ok(e, "del", "k1");
  await ok(e, "compact", "10", "--physical");
  await ok(e, "put", "k2", "after the compaction");
  await ok(e, "user", "add", "root:rootpw");
  await ok(e, "user", "add", "alice:alicepw");
  await ok(e, "role", "add", "reader");
  await ok(e, "role", "grant-permission", "reader", "read", "k", "l");
  await ok(e, "role", "grant-permission", "reader", "readwrite", "t", "--prefix");
  await ok(e, "user", "grant-role", "alice", "reader");
  await ok(e, "user", "grant-role", "root", "root");
  await ok(e, "auth", "enable");
}

/** What a member serves, without what names the member itself. */
async function state(e: string) {
  const kvs = async (rev: number) =>
    JSON.parse(await ok(e, "get", "", "--from-key", `--rev=${rev}`, "-w", "json")).kvs;
  const current = JSON.parse(await ok(e, "get", "k2", "-w", "json")).header.revision as number;
  const history = [];
  for (let rev = 10; rev <= current; rev++) history.push(await kvs(rev));
  const leases = (await ok(e, "lease", "list")).split("\n").slice(1).filter(Boolean).sort();
  const ttls = await Promise.all(leases.map(async (id) => {
    const t = JSON.parse(await ok(e, "lease", "timetolive", id, "--keys", "-w", "json"));
    // etcd lists a lease's keys from a Go map: in no particular order.
    return { id: t.id, granted: t["granted-ttl"], keys: (t.keys ?? []).sort() };
  }));
  const users = await ok(e, "user", "list");
  const roleNames = (await ok(e, "role", "list")).split("\n").filter(Boolean);
  const roles = await Promise.all(roleNames.map((r) => ok(e, "role", "get", r)));
  const alice = await ok(e, "user", "get", "alice");
  const hashes = await Promise.all([0, 11, 14].map(async (rev) => {
    const [{ HashKV: h }] = JSON.parse(
      await ok(e, "endpoint", "hashkv", `--rev=${rev}`, "-w", "json"),
    );
    return [h.hash, h.compact_revision];
  }));
  const denied = await etcdctl(e, "--user=alice:alicepw", "get", "z");
  const error = denied.stderr.split("\n").find((l) => l.startsWith("Error:"));
  return { current, history, ttls, users, roles, alice, hashes, denied: error };
}

const restoreFlags = (name: string, ip: string, dataDir: string) => [
  `--name=${name}`,
  `--initial-cluster=${name}=http://${ip}:2380`,
  `--initial-advertise-peer-urls=http://${ip}:2380`,
  `--initial-cluster-token=snapshot-test`,
  `--data-dir=${dataDir}`,
];

itest(
  "snapshots: etcd 3.4 -> etcd-ts -> etcd 3.4, with etcdctl's and etcd-ts's tools",
  async () => {
    for (const ip of Object.values(IP)) await assertPortsFree(ip, [2379, 2380]);
    const dir = tempDir().path;
    const procs: Proc[] = [];
    try {
      const etcd = await startReadyEtcd(singleMemberFlags("e1", IP.etcd, `${dir}/etcd`));
      procs.push(etcd);
      await write(ep(IP.etcd));
      const want = await state(ep(IP.etcd));
      assert.equal(want.history.length, want.current - 9);
      assert.equal(want.denied, "Error: etcdserver: permission denied");
      await ok(ep(IP.etcd), "snapshot", "save", `${dir}/from-etcd.db`);
      assert.equal(
        await etcdTs("snapshot", "status", `${dir}/from-etcd.db`, "-w", "json"),
        await ctl("snapshot", "status", `${dir}/from-etcd.db`, "-w", "json"),
      );

      // Into etcd-ts: the member and cluster IDs etcd's restore computes for the same flags.
      await etcdTs(
        "snapshot",
        "restore",
        `${dir}/from-etcd.db`,
        ...restoreFlags("t1", IP.ts, `${dir}/ts`),
      );
      await ctl(
        "snapshot",
        "restore",
        `${dir}/from-etcd.db`,
        ...restoreFlags("t1", IP.ts, `${dir}/ids`),
      );
      const walDir = `${dir}/ids/member/wal`;
      const [snap] = etcdWalSnapshots(walDir).slice(-1);
      const ids = messages["etcdserverpb.Metadata"].decode(readEtcdWal(walDir, snap).metadata);
      const tsId = computeMemberId([`http://${IP.ts}:2380`], "snapshot-test");
      assert.deepEqual([ids.NodeID, ids.ClusterID], [tsId, computeClusterId([tsId])]);
      const ts = await startReady(singleMemberFlags("t1", IP.ts, `${dir}/ts`));
      procs.push(ts);
      assert.deepEqual(await state(ep(IP.ts)), want, "etcd-ts restored from etcd's snapshot");
      // The IDs are JSON numbers past 2^53: read as digits.
      const header = await ok(ep(IP.ts), "get", "k2", "-w", "json");
      const id = (field: string) => BigInt(new RegExp(`"${field}":(\\d+)`).exec(header)![1]);
      assert.deepEqual([id("member_id"), id("cluster_id")], [ids.NodeID, ids.ClusterID]);

      // Out of etcd-ts, with both tools.
      await ok(ep(IP.ts), "snapshot", "save", `${dir}/by-etcdctl.db`);
      await etcdTs("snapshot", "save", `${dir}/by-etcd-ts.db`, `--endpoints=${IP.ts}:2379`, ROOT);
      // The hashes differ: each login with --user is a raft entry, which moves the consistent
      // index in the meta bucket.
      const status = async (file: string) => {
        const { hash: _, ...s } = JSON.parse(await ctl("snapshot", "status", file, "-w", "json"));
        return s;
      };
      const saved = await status(`${dir}/by-etcd-ts.db`);
      assert.equal(saved.revision, want.current);
      assert.deepEqual(await status(`${dir}/by-etcdctl.db`), saved);
      await ctl(
        "snapshot",
        "restore",
        `${dir}/by-etcd-ts.db`,
        ...restoreFlags("e2", IP.back, `${dir}/back`),
      );
      const back = await startReadyEtcd(singleMemberFlags("e2", IP.back, `${dir}/back`));
      procs.push(back);
      assert.deepEqual(await state(ep(IP.back)), want, "etcd 3.4 restored from etcd-ts's snapshot");
      // And etcd-ts restores its own (etcdctl's copy of it) too.
      await etcdTs("snapshot", "restore", `${dir}/by-etcdctl.db`, "--data-dir", `${dir}/again`);
    } finally {
      await Promise.all(procs.map((p) => stop(p)));
      await Deno.remove(dir, { recursive: true });
    }
  },
);
