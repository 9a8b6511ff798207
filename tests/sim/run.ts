// deno task sim [--quick] --seeds N [--start S] | --seed S [--trace]
//   whole members (real EtcdServers over a simulated clock, network and disk); --quick runs
//   shorter seeds with denser faults, as the test suite does;
// deno task sim:raft --seeds N [--start S] [--nodes 3|5] [--ticks T] [--trace]
//   the raft core alone (RawNodes over MemoryStorage).
// Runs seeds S..S+N-1, prints how many passed and failed; a failing seed prints the command that
// replays it exactly (and, whole-member, its trace).

import { parseArgs } from "node:util";
import { replayHint, simulate } from "./sim.ts";
import { runMemberSeeds } from "./member/run.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "100" },
    start: { type: "string", default: "1" },
    seed: { type: "string" },
    nodes: { type: "string", default: "3" },
    ticks: { type: "string", default: "300" },
    trace: { type: "boolean", default: false },
    "raft-core": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
  },
});
const single = values.seed === undefined ? undefined : Number(values.seed);
const seeds = single === undefined ? Number(values.seeds) : 1;
const start = single ?? Number(values.start);
if (!Number.isSafeInteger(seeds) || seeds < 1 || !Number.isSafeInteger(start)) {
  console.error("sim: --seeds must be a positive integer, --start and --seed integers");
  Deno.exit(2);
}
if (!values["raft-core"]) {
  const failed = await runMemberSeeds({ start, seeds, trace: values.trace, quick: values.quick });
  Deno.exit(failed.length > 0 ? 1 : 0);
}
const nodes = Number(values.nodes), ticks = Number(values.ticks);
const began = performance.now();
let failed = 0, joinedBySnapshot = 0;
for (let seed = start; seed < start + seeds; seed++) {
  const res = simulate({
    seed,
    nodes,
    ticks,
    trace: values.trace ? (l) => console.log(l) : undefined,
  });
  if (res.snapshotsToNewMembers > 0) joinedBySnapshot++;
  if (!res.ok) {
    failed++;
    console.log(`seed ${seed} FAILED: ${res.error}`);
    console.log(`replay: ${replayHint(seed, nodes)}`);
    if (failed >= 5) break;
  }
}
const secs = (performance.now() - began) / 1000;
console.log(
  `${seeds} seeds, ${failed} failed, ${joinedBySnapshot} sent a new member a snapshot, ${
    secs.toFixed(1)
  } s (${(seeds / secs * 60).toFixed(0)} seeds/min)`,
);
if (failed > 0) Deno.exit(1);
