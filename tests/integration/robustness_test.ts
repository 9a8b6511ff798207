// A short fault run of three etcd-ts members in network namespaces (tests/robustness/run): a
// minute of kill -9, SIGSTOP, a partition, a one-way partition, a leader transfer and a member
// replaced, under clients recording every request and watch; the history must be
// linearizable, every watch keep etcd's guarantees, every acknowledged write be found on every
// member. `deno task robustness` runs the long ones. ROBUSTNESS_SEED=<n> picks the seed.
import assert from "node:assert/strict";
import { itest } from "../helpers/process.ts";
import {
  describeRound,
  faultCounts,
  type FaultKind,
  faultRun,
  netSkipReason,
} from "../robustness/run/mod.ts";

const skip = await netSkipReason();
const KINDS: FaultKind[] = ["kill", "stop", "partition", "oneway-in", "leader-transfer", "replace"];

if (skip) {
  Deno.test({ name: `robustness: a minute of faults (${skip})`, ignore: true, fn: () => {} });
} else {
  itest(
    "robustness: a minute of faults keeps every guarantee and every acknowledged write",
    async () => {
      const seed = Number(Deno.env.get("ROBUSTNESS_SEED") ?? Math.floor(Math.random() * 2 ** 31));
      const report = await faultRun({
        seconds: 60,
        seed,
        clients: 6,
        watchers: 4,
        kinds: KINDS,
        inTurn: true,
        failpoints: [],
        snapshotCount: 1000,
      });
      const text = describeRound(`seed ${seed}`, report);
      console.log(text);
      const v = report.verdict;
      assert.deepEqual(v.violations, [], text);
      assert.deepEqual(v.lost, [], text);
      assert.deepEqual(v.problems, [], text);
      assert.ok(v.operations > 1000, `only ${v.operations} operations`);
      assert.ok(v.events > 0 && v.watches > 0, "the watches saw nothing");
      const counts = faultCounts([report]);
      for (const kind of KINDS) {
        assert.ok((counts.get(kind)?.ok ?? 0) > 0, `no ${kind} fault went through:\n${text}`);
      }
    },
  );
}
