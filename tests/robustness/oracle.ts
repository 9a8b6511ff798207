// Self-test support: linearizability decided by brute force, for histories of a handful of
// operations. It tries every order that respects real time and, for each unanswered write,
// both its taking effect and its never happening; no pruning, no memo. Reads of a past store
// (serializable, or at an older revision) are not handled: keep them out.

import { mismatch } from "./match.ts";
import { isWrite, step } from "./model.ts";
import { KvState } from "./state.ts";
import type { Operation, Outcome } from "./types.ts";

export function bruteForce(history: Operation[]): boolean {
  for (const op of history) {
    const r = op.request;
    if (r.type === "range" && (r.serializable || r.revision)) {
      throw new Error("the oracle does not handle reads of a past store");
    }
  }
  // An unanswered read proves nothing.
  const ops = history.filter((op) => op.outcome.status !== "unknown" || isWrite(op.request));
  return explore(new KvState(), ops, new Set(ops.map((_, i) => i)));
}

function explore(state: KvState, ops: Operation[], remaining: Set<number>): boolean {
  let deadline = Infinity;
  for (const i of remaining) {
    if (ops[i].return !== undefined) deadline = Math.min(deadline, ops[i].return!);
  }
  // Only unanswered writes left: they may all never have happened.
  if (deadline === Infinity) return true;
  for (const i of [...remaining]) {
    const op = ops[i];
    // Anything that returned before this call must come first.
    if (op.call > deadline) continue;
    remaining.delete(i);
    const mark = state.mark();
    const answer = step(state, op.request);
    const fits = op.outcome.status === "unknown" ||
      mismatch(op.request, op.outcome as Exclude<Outcome, { status: "unknown" }>, answer) ===
        undefined;
    if (fits && explore(state, ops, remaining)) return true;
    state.undo(mark);
    if (op.outcome.status === "unknown" && explore(state, ops, remaining)) return true;
    remaining.add(i);
  }
  return false;
}
