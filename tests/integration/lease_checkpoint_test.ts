// Lease checkpoints across a leader change (--experimental-enable-lease-checkpoint): with them a
// new leader resumes each lease from its checkpointed remaining TTL; without them it gives the
// full TTL again (plus an election timeout). etcd 3.4 checkpoints every 5 minutes and only leases
// longer than that, so these tests shorten the interval (ETCD_TS_LEASE_CHECKPOINT_INTERVAL); the
// run beside real etcd 3.4 clusters at etcd's own interval takes minutes and is in tests/long/.
// Address blocks: 127.0.230.x and 127.0.231.x.
import assert from "node:assert/strict";
import { makeCluster } from "../helpers/cluster.ts";
import { ETCD_TS, itest, run } from "../helpers/process.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import {
  CHECKPOINT,
  checkpointed,
  grant,
  moveLeader,
  remaining,
  startThree,
} from "../helpers/leases.ts";

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
