// The checker against histories made at random: every history a correct server could give
// is accepted; one wrong response is rejected exactly when no order of events explains it
// (small histories, judged by brute force), and always when it is wrong by construction.

import assert from "node:assert/strict";
import fc from "fast-check";
import { checkHistory } from "./check.ts";
import { anyMutation, corruptRead, lostWrite, reorderWrites, staleRead } from "./mutate.ts";
import { bruteForce } from "./oracle.ts";
import { arbitraryPlan } from "./fixtures.ts";
import { KINDS, type OpPlan, simulate, type Simulated } from "./sim_kv.ts";

const ALL_FATES: OpPlan["fate"][] = ["ok", "ok", "ok", "ok", "ok", "ok", "late", "lost"];
const histories = fc.array(arbitraryPlan(8, KINDS, ALL_FATES), {
  minLength: 1,
  maxLength: 150,
  size: "max",
});
// The oracle does not read past stores.
const PRESENT = KINDS.filter((k) => k !== "getStale" && k !== "getAt");

Deno.test("every history a correct server could give is accepted", () => {
  fc.assert(
    fc.property(histories, (plans) => {
      const sim = simulate(plans);
      const result = checkHistory(sim.history);
      assert.equal(result.ok, true, result.violations.join("\n"));
      // With every response received the events are fixed by the revisions.
      if (plans.every((p) => p.fate === "ok")) assert.deepEqual(result.events, sim.events);
    }),
    { numRuns: 300 },
  );
});

Deno.test("one changed response or time: rejected exactly when brute force finds no order", () => {
  let rejected = 0, runs = 0;
  fc.assert(
    fc.property(
      fc.array(arbitraryPlan(4, PRESENT, ["ok", "ok", "ok", "late", "lost"]), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.nat(),
      fc.nat(99),
      (plans, which, pick) => {
        const history = anyMutation(simulate(plans).history, which, pick);
        const want = bruteForce(history);
        const got = checkHistory(history);
        assert.equal(got.ok, want, `brute force says ${want}:\n${got.violations.join("\n")}`);
        runs++;
        if (!want) rejected++;
      },
    ),
    { numRuns: 3000 },
  );
  // The mutations must often be wrong for this to test rejection at all.
  assert.ok(rejected > runs / 5, `only ${rejected} of ${runs} mutated histories were wrong`);
  assert.ok(rejected < runs, "no mutated history was right");
});

Deno.test("stale reads, lost, reordered and corrupt writes are rejected in long histories", () => {
  const answered = fc.array(arbitraryPlan(8, KINDS, ["ok"]), {
    minLength: 1,
    maxLength: 150,
    size: "max",
  });
  const faults = {
    staleRead: [histories, staleRead],
    lostWrite: [histories, lostWrite],
    reorderWrites: [histories, reorderWrites],
    corruptValue: [histories, (sim: Simulated, pick: number) => corruptRead(sim, pick, "value")],
    // An unanswered put nobody saw could explain one version more: only without them.
    wrongVersion: [answered, (sim: Simulated, pick: number) => corruptRead(sim, pick, "version")],
  } as const;
  for (const [name, [arbitrary, fault]] of Object.entries(faults)) {
    fc.assert(
      fc.property(arbitrary, fc.nat(), (plans, pick) => {
        const mutated = fault(simulate(plans), pick);
        fc.pre(mutated !== undefined);
        const result = checkHistory(mutated!);
        assert.equal(result.verdict, "not linearizable", `${name} was accepted`);
      }),
      { numRuns: 150 },
    );
  }
});
