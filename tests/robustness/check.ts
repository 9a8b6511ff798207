// The checker's entry point: is this history linearizable against etcd's KV model, and if
// so, which events did it produce.

import { explainFailure } from "./explain.ts";
import { prepare } from "./history.ts";
import { search } from "./linearize.ts";
import { precheck } from "./precheck.ts";
import { replay } from "./replay.ts";
import type { Event, InitialState, Operation } from "./types.ts";

export interface CheckOptions {
  /** The store before the history; empty at revision 1 by default. */
  initial?: InitialState;
  /** Give up (verdict "undecided") after this many linearization attempts. */
  maxSteps?: number;
  /** Events watches received: they tell which unknown writes took effect, and when. */
  observed?: Event[];
}

export interface CheckResult {
  ok: boolean;
  verdict: "linearizable" | "not linearizable" | "undecided";
  /** Why not, for a person; empty when ok. */
  violations: string[];
  /** Indices into the history in linearized order (the operations taken to have happened). */
  linearization: number[];
  /** Every event of that linearization, in revision order, with prev_kv filled in. */
  events: Event[];
  /** The store's revision at the end of the linearization. */
  revision: number;
  stats: { operations: number; searched: number; steps: number; states: number; ms: number };
}

export function checkHistory(history: Operation[], options: CheckOptions = {}): CheckResult {
  const started = performance.now();
  const initial = options.initial ?? { revision: 1, kvs: [], leases: [] };
  const prepared = prepare(history, options.observed);
  const stats = {
    operations: history.length,
    searched: prepared.ops.length,
    steps: 0,
    states: 0,
    ms: 0,
  };
  const result: CheckResult = {
    ok: false,
    verdict: "not linearizable",
    violations: [],
    linearization: [],
    events: [],
    revision: initial.revision,
    stats,
  };
  const early = precheck(prepared, initial);
  if (early) result.violations.push(early);
  const found = early ? undefined : search(prepared, initial, options.maxSteps ?? 20_000_000);
  if (found) {
    Object.assign(stats, found.stats);
    result.verdict = found.verdict;
  }
  if (found?.verdict === "not linearizable") {
    result.violations.push(`not linearizable: ${explainFailure(prepared.ops, initial, found)}`);
  } else if (found?.verdict === "undecided") {
    // Where it got stuck deepest is where to look first.
    const deepest = found.deepest
      ? `; the deepest it got: ${explainFailure(prepared.ops, initial, found.deepest)}`
      : "";
    result.violations.push(`undecided after ${found.stats.steps} steps${deepest}`);
  } else if (found?.verdict === "linearizable") {
    const replayed = replay(prepared.ops, initial, found.order);
    result.linearization = found.order.map((id) => prepared.ops[id].source);
    result.events = replayed.events;
    result.revision = replayed.revision;
    result.ok = true;
  }
  stats.ms = performance.now() - started;
  return result;
}
