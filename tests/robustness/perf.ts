// How long the checker takes on long histories from 8 clients, correct and with one fault
// (a stale read, a lost write, a corrupt value, a wrong version), as the share of unanswered requests grows. Prints; asserts nothing
// about time.
//   deno run tests/robustness/perf.ts [operations...]

import { checkHistory } from "./check.ts";
import { corruptRead, lostWrite, staleRead } from "./mutate.ts";
import { KINDS, type OpPlan, simulate, type Simulated } from "./sim_kv.ts";

/** mulberry32: the same plans on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function plans(n: number, unknown: number, seed: number): OpPlan[] {
  const r = random(seed);
  const int = (below: number) => Math.floor(r() * below);
  return Array.from({ length: n }, () => {
    const u = r();
    const fate = u < unknown / 2 ? "lost" : u < unknown ? "late" : "ok";
    const [client, kind, key] = [int(8), KINDS[int(KINDS.length)], int(6)];
    return {
      client,
      kind,
      key,
      think: int(3),
      before: int(10),
      after: int(10),
      fate,
      pick: int(100),
    };
  });
}

const faults = {
  staleRead,
  lostWrite,
  corruptValue: (sim: Simulated, pick: number) => corruptRead(sim, pick, "value"),
  wrongVersion: (sim: Simulated, pick: number) => corruptRead(sim, pick, "version"),
};

const line = (r: ReturnType<typeof checkHistory>) =>
  `${r.verdict} in ${r.stats.ms.toFixed(0)} ms (${r.stats.steps} steps, ${r.stats.states} states)`;

checkHistory(simulate(plans(2000, 0.05, 1)).history); // warm the JIT up
const sizes = Deno.args.length ? Deno.args.map(Number) : [1000, 5000];
for (const n of sizes) {
  for (const unknown of [0, 0.02, 0.05, 0.1]) {
    const sim = simulate(plans(n, unknown, n + Math.round(unknown * 1000)));
    console.log(`${n} ops, ${unknown * 100}% unanswered: ${line(checkHistory(sim.history))}`);
    // Each fault placed at ten points along the history; the slowest rejection shown.
    for (const [name, fault] of Object.entries(faults)) {
      const faulty = Array.from({ length: 10 }, (_, i) => fault(sim, i * 97 + n));
      const bad = faulty.filter((h) => h !== undefined).map((h) => checkHistory(h));
      if (bad.length === 0) continue;
      const slowest = bad.reduce((a, b) => a.stats.ms > b.stats.ms ? a : b);
      console.log(`  with a ${name}: ${line(slowest)}`);
    }
  }
}
