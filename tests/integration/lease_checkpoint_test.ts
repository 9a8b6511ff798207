// Lease checkpoints across a leader change (--experimental-enable-lease-checkpoint): with them a
// new leader resumes each lease from its checkpointed remaining TTL; without them it gives the
// full TTL again (plus an election timeout). etcd 3.4 checkpoints every 5 minutes and only leases
// longer than that, so the first test shortens the interval (ETCD_TS_LEASE_CHECKPOINT_INTERVAL)
// and the second runs beside real etcd 3.4 clusters at etcd's own interval.
// Address blocks: 127.0.230.x and 127.0.231.x (etcd-ts), 127.0.232.x (etcd 3.4).
import assert from "node:assert/strict";
import { type Cluster, type ClusterMember, makeCluster } from "../helpers/cluster.ts";
import { ETCD_TS, itest, run } from "../helpers/process.ts";
import { etcdctl, memberList } from "../helpers/etcdctl.ts";

const CHECKPOINT = ["--experimental-enable-lease-checkpoint"];

/** Starts three members with `extra` and returns the leader and the cluster's last term. */
async function startThree(c: Cluster, extra: string[], env?: Record<string, string>) {
  for (let i = 0; i < 3; i++) c.start(i, extra, env);
  // etcd's zap logger says "serving client traffic" where capnslog says "ready to serve".
  const ready = /ready to serve client requests|"serving client traffic/;
  await Promise.all(c.members.map((m) => m.proc!.waitFor(ready)));
  return await c.leader();
}

async function grant(endpoint: string, ttl: number): Promise<string> {
  const r = await etcdctl(endpoint, "lease", "grant", String(ttl));
  const id = /^lease ([0-9a-f]+) granted/.exec(r.stdout)?.[1];
  assert.ok(id, r.stdout + r.stderr);
  return id;
}

/** The remaining TTL `lease timetolive` prints (the leader's lessor answers); -1: expired. */
async function remaining(endpoint: string, id: string): Promise<number> {
  const r = await etcdctl(endpoint, "lease", "timetolive", id);
  if (r.stdout.trim() === `lease ${id} already expired`) return -1;
  const m = /remaining\((-?\d+)s\)/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  return Number(m[1]);
}

/** Moves leadership from `leader` to another member; the new leader once it has taken over. */
async function moveLeader(c: Cluster, leader: ClusterMember, term: number) {
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
function checkpointed(id: string, atMost: number) {
  const re = new RegExp(`checkpointing lease ${id} with remaining TTL (\\d+)s`);
  return (line: string) => Number(re.exec(line)?.[1] ?? Infinity) <= atMost;
}

itest(
  "lease checkpoints: a new leader resumes remaining TTLs; without them it resets",
  async () => {
    const withFlag = await makeCluster("127.0.230", 3);
    const without = await makeCluster("127.0.231", 3);
    try {
      const env = { ETCD_TS_LEASE_CHECKPOINT_INTERVAL: "2s" };
      const [a, b] = await Promise.all([
        startThree(withFlag, [...CHECKPOINT, "--log-level=debug"], env),
        startThree(without, []),
      ]);
      const [idA, idB] = await Promise.all([
        grant(a.member.clientURL, 60),
        grant(b.member.clientURL, 60),
      ]);
      // The leader checkpoints every 2 s; once it has recorded 52 s or less, about 8 s are gone.
      const line = await a.member.proc!.waitFor(checkpointed(idA, 52), 20_000);
      const recorded = Number(/remaining TTL (\d+)s/.exec(line)![1]);
      // The same time went by for the lease of the cluster without checkpoints.
      const beforeB = await remaining(b.member.clientURL, idB);
      assert.ok(beforeB <= 53, `lease B before the move: ${beforeB} s`);

      const [nextA, nextB] = await Promise.all([
        moveLeader(withFlag, a.member, a.term),
        moveLeader(without, b.member, b.term),
      ]);
      // The new leader counts down from the checkpoint (plus the 1 s election timeout); the
      // checkpoint the old leader may have made after `recorded` is lower still.
      const ttlA = await remaining(nextA.member.clientURL, idA);
      assert.ok(ttlA <= recorded + 1 && ttlA >= recorded - 6, `with checkpoints: ${ttlA} s`);
      const ttlB = await remaining(nextB.member.clientURL, idB);
      assert.ok(ttlB >= 59 && ttlB <= 61, `without checkpoints: ${ttlB} s (reset to 60 + 1)`);
      console.log(
        `  after move-leader: ${ttlA} s with checkpoints (last seen ${recorded} s), ` +
          `${ttlB} s without (${beforeB} s before the move)`,
      );

      // A keep-alive clears the checkpoint: the next leader starts the lease from 60 s again.
      const kept = await etcdctl(nextA.member.clientURL, "lease", "keep-alive", "--once", idA);
      assert.equal(kept.stdout.trim(), `lease ${idA} keepalived with TTL(60)`);
      const third = await moveLeader(withFlag, nextA.member, nextA.term);
      const renewed = await remaining(third.member.clientURL, idA);
      assert.ok(renewed >= 59 && renewed <= 61, `after a keep-alive: ${renewed} s`);
    } finally {
      await Promise.all([withFlag.stopAll(), without.stopAll()]);
    }
  },
);

/** etcd's zap debug line for a checkpoint of `id` (hex), or ours. */
function anyCheckpoint(id: string) {
  const decimal = BigInt("0x" + id).toString();
  return (line: string) =>
    line.includes(`checkpointing lease ${id} with`) ||
    (line.includes('"msg":"Checkpointing lease"') && line.includes(`"leaseID":${decimal},`));
}

itest(
  "lease checkpoints beside etcd 3.4: 5-minute interval, only leases longer than it",
  async () => {
    const ours = await makeCluster("127.0.230", 3);
    const etcd = await makeCluster("127.0.232", 3, "etcd-cluster-1", { etcd: true });
    try {
      // etcd 3.4.23 logs its checkpoint warning through a zap logger it lacks under capnslog.
      const [o, e] = await Promise.all([
        startThree(ours, [...CHECKPOINT, "--log-level=debug"]),
        startThree(etcd, [...CHECKPOINT, "--logger=zap", "--log-level=debug"]),
      ]);
      const both = [{ c: ours, ...o }, { c: etcd, ...e }];
      const leases = await Promise.all(
        both.map(async (x) => ({
          short: await grant(x.member.clientURL, 60),
          long: await grant(x.member.clientURL, 400),
        })),
      );
      // Nothing is checkpointed in the first 5 minutes: a leader change resets both leases.
      const first = await Promise.all(both.map((x) => moveLeader(x.c, x.member, x.term)));
      const reset = await Promise.all(first.map(async (n, i) => [
        await remaining(n.member.clientURL, leases[i].short),
        await remaining(n.member.clientURL, leases[i].long),
      ]));
      console.log(`  first move (etcd-ts, etcd): ${JSON.stringify(reset)}`);
      for (const [short, long] of reset) {
        assert.ok(short >= 59 && short <= 61, `60 s lease after the first move: ${short}`);
        assert.ok(long >= 399 && long <= 401, `400 s lease after the first move: ${long}`);
      }
      // Five minutes after its promotion the new leader checkpoints the 400 s lease (about 101 s
      // left), not the 60 s one; the next leader resumes it from there.
      await Promise.all(
        first.map((n, i) => n.member.proc!.waitFor(anyCheckpoint(leases[i].long), 330_000)),
      );
      const second = await Promise.all(
        first.map((n, i) => moveLeader(both[i].c, n.member, n.term)),
      );
      const resumed = await Promise.all(second.map(async (n, i) => [
        await remaining(n.member.clientURL, leases[i].short),
        await remaining(n.member.clientURL, leases[i].long),
      ]));
      console.log(`  second move (etcd-ts, etcd): ${JSON.stringify(resumed)}`);
      for (const [short, long] of resumed) {
        assert.equal(short, -1, "the 60 s lease expired meanwhile");
        assert.ok(long >= 95 && long <= 102, `400 s lease after the checkpoint: ${long}`);
      }
      assert.ok(Math.abs(resumed[0][1] - resumed[1][1]) <= 2, "etcd-ts and etcd agree");
    } finally {
      await Promise.all([ours.stopAll(), etcd.stopAll()]);
    }
  },
);

itest("lease checkpoint flags: bad values exit as etcd 3.4's do", async () => {
  // Without a timestamp: the capnslog line and etcd's flag-parse error.
  const shown = (s: string) =>
    s.split("\n").filter((l) => /error verifying flags|invalid boolean/.test(l))
      .map((l) => l.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} /, ""));
  for (
    const flags of [
      ["--experimental-enable-lease-checkpoint-persist"],
      ["--experimental-enable-lease-checkpoint=maybe"],
      ["--experimental-enable-lease-checkpoint-persist=2"],
    ]
  ) {
    const [etcd, ours] = await Promise.all([run("etcd", flags), run(ETCD_TS, flags)]);
    assert.equal(ours.code, etcd.code, flags.join(" "));
    assert.notEqual(etcd.code, 0);
    assert.deepEqual(shown(ours.stderr), shown(etcd.stderr));
    assert.equal(shown(etcd.stderr).length, 1, etcd.stderr);
  }
});
