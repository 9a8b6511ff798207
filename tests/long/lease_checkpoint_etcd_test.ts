// Lease checkpoints beside real etcd 3.4 clusters at etcd's own 5-minute interval: nothing is
// checkpointed before it, then only leases longer than it, and a new leader resumes them from
// there, on both. Minutes long: `deno task test:long`, not the default suite.
// Address blocks: 127.0.230.x (etcd-ts), 127.0.232.x (etcd 3.4).
import assert from "node:assert/strict";
import { makeCluster } from "../helpers/cluster.ts";
import { itest } from "../helpers/process.ts";
import {
  anyCheckpoint,
  CHECKPOINT,
  grant,
  moveLeader,
  remaining,
  startThree,
} from "../helpers/leases.ts";

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
