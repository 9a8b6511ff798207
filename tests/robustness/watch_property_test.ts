// The watch checker against watches made at random from random histories: what a correct
// server delivers passes, and each single fault is caught as the guarantee it breaks. And
// the linearization of a history with lost responses, told what watches saw, makes every
// event they saw.

import assert from "node:assert/strict";
import fc from "fast-check";
import { checkHistory } from "./check.ts";
import { arbitraryPlan } from "./fixtures.ts";
import { KEYS, KINDS, type OpPlan, simulate } from "./sim_kv.ts";
import {
  duplicate,
  earlyProgress,
  filterBreach,
  gap,
  reorder,
  simulateWatch,
  split,
  type WatchFault,
  type WatchPlan,
  wrongPrevKv,
} from "./sim_watch.ts";
import { checkWatches } from "./watch.ts";

const watchPlan = fc.record<WatchPlan>({
  client: fc.nat(7),
  key: fc.nat(KEYS.length - 1),
  span: fc.constantFrom("key", "prefix", "all"),
  start: fc.nat(60),
  created: fc.nat(60),
  prevKv: fc.boolean(),
  filter: fc.constantFrom("", "NOPUT", "NODELETE"),
  cuts: fc.array(fc.nat(11), { minLength: 1, maxLength: 8 }),
  stop: fc.nat(200),
});

const plans = (fates: OpPlan["fate"][]) =>
  fc.array(arbitraryPlan(8, KINDS, fates), { minLength: 1, maxLength: 120, size: "max" });

Deno.test("watches as a correct server delivers them pass", () => {
  fc.assert(
    fc.property(
      plans(["ok"]),
      fc.array(watchPlan, { minLength: 1, maxLength: 6 }),
      (ops, watches) => {
        const sim = simulate(ops);
        const records = watches.map((w) => simulateWatch(w, sim.events, sim.revision));
        assert.deepEqual(checkWatches(records, sim.events), []);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("with lost responses, what watches saw never makes a correct history fail", () => {
  fc.assert(
    fc.property(
      plans(["ok", "ok", "ok", "ok", "late", "lost"]),
      fc.array(watchPlan, { minLength: 1, maxLength: 6 }),
      (ops, watches) => {
        const sim = simulate(ops);
        const records = watches.map((w) => simulateWatch(w, sim.events, sim.revision));
        const observed = records.flatMap((r) => r.responses.flatMap((resp) => resp.events));
        const result = checkHistory(sim.history, { observed });
        assert.equal(result.ok, true, result.violations.join("\n"));
        // Every event a watch saw is one the linearization made.
        const made = new Set(result.events.map((e) => JSON.stringify([e.type, e.kv])));
        for (const e of observed) assert.ok(made.has(JSON.stringify([e.type, e.kv])));
      },
    ),
    { numRuns: 300 },
  );
});

const faults: Record<string, WatchFault> = {
  duplicate,
  gap,
  reorder,
  split,
  wrongPrevKv,
  filterBreach,
  earlyProgress,
};

for (const [name, fault] of Object.entries(faults)) {
  Deno.test(`a watch fault is caught: ${name}`, () => {
    fc.assert(
      fc.property(plans(["ok"]), watchPlan, fc.nat(), (ops, plan, pick) => {
        const sim = simulate(ops);
        const faulty = fault(simulateWatch(plan, sim.events, sim.revision), sim.events, pick);
        fc.pre(faulty !== undefined);
        const found = checkWatches([faulty!.record], sim.events);
        assert.ok(
          found.some((v) => v.guarantee === faulty!.breaks),
          `${name} should break ${faulty!.breaks}: ${JSON.stringify(found)}`,
        );
      }),
      { numRuns: 100, maxSkipsPerRun: 1000 },
    );
  });
}
