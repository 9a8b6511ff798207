// Reads of a past store (serializable reads, reads of an older revision). The store holds
// the same keys for as long as it stays at one revision, so such a read is placed the moment
// the store reaches its revision: if it does not fit then, it never will on that branch.

import type { PreparedOp } from "./history.ts";
import { mismatch } from "./match.ts";
import { range } from "./model.ts";
import type { KvState } from "./state.ts";

export class Snapshots {
  readonly #at = new Map<number, number[]>();

  constructor(readonly ops: PreparedOp[]) {
    for (const op of ops) {
      if (op.kind !== "snapshot") continue;
      this.#at.set(op.before!, [...this.#at.get(op.before!) ?? [], op.id]);
    }
  }

  /** The reads of `revision`. */
  at(revision: number): number[] {
    return this.#at.get(revision) ?? [];
  }

  /** The reads of revisions the history starts after: nothing to check them against. */
  before(revision: number): number[] {
    return [...this.#at].filter(([at]) => at < revision).flatMap(([, ids]) => ids);
  }

  /** Whether every read of the store's revision saw what it holds. */
  fit(state: KvState): boolean {
    return this.at(state.revision).every((id) =>
      snapshotMismatch(this.ops[id], state) === undefined
    );
  }
}

/** How a read of the store at its revision differs from `state`, if it does. */
export function snapshotMismatch(op: PreparedOp, state: KvState): string | undefined {
  const outcome = op.operation.outcome;
  if (op.request.type !== "range" || outcome.status !== "ok") return undefined;
  const want = {
    status: "ok" as const,
    revision: outcome.revision,
    result: range(state, op.request),
  };
  return mismatch(op.request, outcome, want);
}
