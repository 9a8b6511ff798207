// Lease helpers for the checkpoint tests (tests/integration/lease_checkpoint_test.ts and its
// side-by-side run beside etcd 3.4 in tests/long/): three members started alike, leases granted and
// read back through etcdctl, leadership moved, and the leaders' checkpoint log lines.
import assert from "node:assert/strict";
import type { Cluster, ClusterMember } from "./cluster.ts";
import { etcdctl, memberList } from "./etcdctl.ts";

export const CHECKPOINT = ["--experimental-enable-lease-checkpoint"];

/** Starts three members with `extra` and returns the leader and the cluster's last term. */
export async function startThree(c: Cluster, extra: string[], env?: Record<string, string>) {
  for (let i = 0; i < 3; i++) c.start(i, extra, env);
  // etcd's zap logger says "serving client traffic" where capnslog says "ready to serve".
  const ready = /ready to serve client requests|"serving client traffic/;
  await Promise.all(c.members.map((m) => m.proc!.waitFor(ready)));
  return await c.leader();
}

export async function grant(endpoint: string, ttl: number): Promise<string> {
  const r = await etcdctl(endpoint, "lease", "grant", String(ttl));
  const id = /^lease ([0-9a-f]+) granted/.exec(r.stdout)?.[1];
  assert.ok(id, r.stdout + r.stderr);
  return id;
}

/** The remaining TTL `lease timetolive` prints (the leader's lessor answers); -1: expired. */
export async function remaining(endpoint: string, id: string): Promise<number> {
  const r = await etcdctl(endpoint, "lease", "timetolive", id);
  if (r.stdout.trim() === `lease ${id} already expired`) return -1;
  const m = /remaining\((-?\d+)s\)/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  return Number(m[1]);
}

/** Moves leadership from `leader` to another member; the new leader once it has taken over. */
export async function moveLeader(c: Cluster, leader: ClusterMember, term: number) {
  const target = c.members.find((m) => m !== leader)!;
  const { members } = await memberList(leader.clientURL);
  const id = members.find((m) => m.name === target.name)!.ID.toString(16);
  const r = await etcdctl(leader.clientURL, "move-leader", id);
  assert.equal(r.code, 0, r.stderr);
  const next = await c.leader(term);
  assert.equal(next.member, target);
  return next;
}

/** The leader's log line for a checkpoint of `id` at or below `atMost` seconds. */
export function checkpointed(id: string, atMost: number) {
  const re = new RegExp(`checkpointing lease ${id} with remaining TTL (\\d+)s`);
  return (line: string) => Number(re.exec(line)?.[1] ?? Infinity) <= atMost;
}

/** etcd's zap debug line for a checkpoint of `id` (hex), or ours. */
export function anyCheckpoint(id: string) {
  const decimal = BigInt("0x" + id).toString();
  return (line: string) =>
    line.includes(`checkpointing lease ${id} with`) ||
    (line.includes('"msg":"Checkpointing lease"') && line.includes(`"leaseID":${decimal},`));
}
