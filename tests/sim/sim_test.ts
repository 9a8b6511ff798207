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

// Members 4 and 5 join after the leader's last stored snapshot and need a snapshot to catch up:
// it must list them (issue 17).
Deno.test("simulation: seed 100174, members added after the stored snapshot", () => {
  const res = simulate({ seed: 100174, nodes: 3, ticks: 300 });
  assert.equal(res.error, undefined);
  assert.ok(res.ok);
  // The seed still reaches the case it guards (a change to the simulation may move it away).
  assert.ok(res.snapshotsToNewMembers > 0);
});

Deno.test("simulation: a seed replays exactly", () => {
  const a = simulate({ seed: 4242, nodes: 5, ticks: 300 });
  const b = simulate({ seed: 4242, nodes: 5, ticks: 300 });
  assert.deepEqual(a, b);
  assert.ok(a.ok && a.applied > 0 && a.recoveryTicks > 0);
});
