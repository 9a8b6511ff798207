// deno task sim --seeds N [--start S] [--nodes 3|5] [--ticks T] [--trace]
// Runs seeds S..S+N-1; on failure prints the seed and the command that replays it exactly.

import { parseArgs } from "node:util";
import { replayHint, simulate } from "./sim.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "100" },
    start: { type: "string", default: "1" },
    nodes: { type: "string", default: "3" },
    ticks: { type: "string", default: "300" },
    trace: { type: "boolean", default: false },
  },
});
const seeds = Number(values.seeds), start = Number(values.start);
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
