// `etcdctl endpoint hashkv` prints the same hash and compact revision on etcd-ts as on etcd 3.4
// for the same history: a real etcd 3.4, one etcd-ts member and a three-member etcd-ts cluster
// go through the same writes (overwrites, deletions, a txn of several writes, a key on a lease
// with a chosen ID, compactions, more writes), then every endpoint is asked for HashKV at the
// current revision and at revisions before and after the compaction points.
// Address blocks 127.0.100.x (etcd, the single member) and 127.0.101.x (the cluster).
import assert from "node:assert/strict";
import { makeCluster } from "../helpers/cluster.ts";
import {
  itest,
  type Proc,
  run,
  singleMemberFlags,
  spawn,
  startEtcdTs,
  stop,
} from "../helpers/process.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import { tempDir } from "../helpers/tmp.ts";

const ETCD_IP = "127.0.100.1";
const SINGLE_IP = "127.0.100.2";
const CLUSTER_BLOCK = "127.0.101";

// Lease IDs are part of the hashed KeyValues, so the lease is granted with a chosen ID (the
// gateway's LeaseGrant takes one; etcdctl's does not).
const LEASE_ID = 7587862234567813650n;

type Step =
  | string[] // an etcdctl command
  | { txn: string } // `etcdctl txn` input: compares, blank, success ops, blank, failure ops, blank
  | { grant: bigint }
  | { compact: number }
  | { hash: number[] };

const HISTORY: Step[] = [
  ["put", "a", "1"], // 2
  ["put", "b", "1"], // 3
  ["put", "a", "22"], // 4
  { txn: "\nput c x\nput d y\ndel b\n\n\n" }, // 5: sub revisions 0, 1, 2
  { grant: LEASE_ID },
  ["put", "l", "leased", `--lease=${LEASE_ID.toString(16)}`], // 6
  ["del", "a"], // 7
  ["put", "a", "4"], // 8
  { hash: [0, 1, 2, 3, 4, 5, 6, 7, 8] },
  { compact: 6 },
  { hash: [0, 6, 7, 8, 9] },
  { txn: "\nput d 5\nput e 7\n\n\n" }, // 9
  { hash: [0, 7, 8, 9] },
  // 10: every key gone; etcd then hashes the values compaction kept instead of none.
  ["del", "a", "--from-key"],
  { hash: [0, 7, 9, 10] },
  { compact: 10 },
  { hash: [0, 10] },
  ["put", "z", ""], // 11
  { hash: [0, 11] },
];

/** One server (or cluster) the history runs on: written through `write`, hashed on `hash`. */
interface Target {
  name: string;
  write: string;
  hash: string[];
}

async function ok(endpoint: string, args: string[], stdin?: string): Promise<string> {
  const r = stdin === undefined ? await etcdctl(endpoint, ...args) : await run("etcdctl", [
    `--endpoints=${endpoint}`,
    ...args,
  ], { env: { ETCDCTL_API: "3" }, stdin });
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")} on ${endpoint}: ${r.stderr}`);
  return r.stdout;
}

async function grant(endpoint: string, id: bigint): Promise<void> {
  const r = await run("curl", [
    "-sS",
    "--max-time",
    "10",
    `${endpoint}/v3/lease/grant`,
    "-d",
    JSON.stringify({ TTL: 600, ID: id.toString() }),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`"ID":"${id}"`), `lease grant on ${endpoint}`);
}

/** HashKV at `rev` as etcdctl reports it: hash, compact revision and header revision, or the error. */
async function hashKV(endpoint: string, rev: number): Promise<string> {
  const r = await etcdctl(endpoint, "endpoint", "hashkv", `--rev=${rev}`, "-w", "json");
  if (r.code !== 0) {
    const error = /^Error: (.*)$/m.exec(r.stderr)?.[1];
    assert.ok(error, `hashkv --rev=${rev} on ${endpoint}: ${r.stderr}`);
    return `rev ${rev}: ${error}`;
  }
  const [{ HashKV: h }] = JSON.parse(r.stdout);
  return `rev ${rev}: hash ${h.hash} compact_revision ${h.compact_revision} at ${h.header.revision}`;
}

async function apply(t: Target, step: Step): Promise<void> {
  if (Array.isArray(step)) await ok(t.write, step);
  else if ("txn" in step) await ok(t.write, ["txn"], step.txn);
  else if ("grant" in step) await grant(t.write, step.grant);
  else if ("compact" in step) {
    assert.equal(
      await ok(t.write, ["compact", String(step.compact), "--physical"]),
      `compacted revision ${step.compact}\n`,
    );
    // Defragmenting commits etcd's backend: until its next batch commit etcd's reads still see
    // the rows compaction removed, which HashKV counts at a revision where no key exists.
    await ok(t.hash.join(","), ["defrag"]);
  }
}

/** Every target endpoint answers HashKV at `revs` as the reference does; returns the count. */
async function compareHashKV(reference: Target, targets: Target[], revs: number[]) {
  const want = await Promise.all(revs.map((rev) => hashKV(reference.write, rev)));
  let compared = 0;
  for (const t of targets) {
    for (const ep of t.hash) {
      // A linearizable read returns once this member has applied every write before it.
      await ok(ep, ["get", "a"]);
      const got = await Promise.all(revs.map((rev) => hashKV(ep, rev)));
      assert.deepEqual(got, want, `${t.name} at ${ep}`);
      compared += got.length;
    }
  }
  return compared;
}

itest("endpoint hashkv: etcd-ts members print etcd 3.4's hashes for the same history", async () => {
  await assertPortsFree(ETCD_IP, [2379, 2380]);
  await assertPortsFree(SINGLE_IP, [2379, 2380]);
  const cluster = await makeCluster(CLUSTER_BLOCK, 3);
  const dir = tempDir().path;
  const procs: Proc[] = [];
  try {
    procs.push(spawn("etcd", singleMemberFlags("etcd", ETCD_IP, `${dir}/etcd`)));
    procs.push(startEtcdTs(singleMemberFlags("single", SINGLE_IP, `${dir}/single`)));
    for (let i = 0; i < 3; i++) cluster.start(i);
    const all = [...procs, ...cluster.members.map((m) => m.proc!)];
    await Promise.all(all.map((p) => p.waitFor("ready to serve client requests", 30_000)));
    const endpoint = (ip: string) => `http://${ip}:2379`;
    const reference: Target = {
      name: "etcd 3.4",
      write: endpoint(ETCD_IP),
      hash: [endpoint(ETCD_IP)],
    };
    const targets: Target[] = [
      { name: "etcd-ts", write: endpoint(SINGLE_IP), hash: [endpoint(SINGLE_IP)] },
      {
        name: "etcd-ts cluster",
        write: cluster.members[0].clientURL,
        hash: cluster.members.map((m) => m.clientURL),
      },
    ];
    let compared = 0;
    for (const step of HISTORY) {
      if ("hash" in step) compared += await compareHashKV(reference, targets, step.hash);
      else await Promise.all([reference, ...targets].map((t) => apply(t, step)));
    }
    console.log(`  compared ${compared} HashKV answers with etcd 3.4's`);
  } finally {
    await Promise.all([...procs.map((p) => stop(p)), cluster.stopAll()]);
    await Deno.remove(dir, { recursive: true });
  }
});
