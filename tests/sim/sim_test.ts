import assert from "node:assert/strict";
import { replayHint, simulate } from "./sim.ts";

function runSeeds(nodes: number, from: number, count: number): void {
  const failures: string[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const res = simulate({ seed, nodes, ticks: 300 });
    if (!res.ok) failures.push(`seed ${seed}: ${res.error}\n  replay: ${replayHint(seed, nodes)}`);
  }
  assert.deepEqual(failures, []);
}

Deno.test("simulation: 3 nodes, 300 seeds", () => runSeeds(3, 1, 300));
Deno.test("simulation: 5 nodes, 150 seeds", () => runSeeds(5, 1, 150));

Deno.test("simulation: a seed replays exactly", () => {
  const a = simulate({ seed: 4242, nodes: 5, ticks: 300 });
  const b = simulate({ seed: 4242, nodes: 5, ticks: 300 });
  assert.deepEqual(a, b);
  assert.ok(a.ok && a.applied > 0 && a.recoveryTicks > 0);
});
