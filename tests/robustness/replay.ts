// Replays a linearization: the events it produced (what every watch should have seen) and
// the reads that are not linearized checked against the store at the revision they read
// (etcd's robustness suite validates its serializable reads the same way).

import { describeOp } from "./explain.ts";
import type { Prepared, PreparedOp } from "./history.ts";
import { mismatch } from "./match.ts";
import { range, step } from "./model.ts";
import { type Change, KvState } from "./state.ts";
import type { Event, InitialState } from "./types.ts";

export interface Replayed {
  /** Every event, in revision order; within a revision, in the order etcd applies them. */
  events: Event[];
  /** Reads that do not match the store at their revision. */
  problems: string[];
  /** The store's revision after the last operation. */
  revision: number;
}

export function replay(prepared: Prepared, initial: InitialState, order: number[]): Replayed {
  const state = new KvState(initial);
  const reads = new ReadsByRevision(prepared.deferred);
  const events: Event[] = [];
  reads.check(state);
  for (const id of order) {
    const from = state.revision, mark = state.mark();
    step(state, prepared.ops[id].request);
    if (state.revision === from) continue;
    if (state.revision !== from + 1) {
      throw new Error(`revision jumped from ${from} to ${state.revision}`);
    }
    for (const change of state.changesSince(mark)) events.push(toEvent(change, state.revision));
    reads.check(state);
  }
  reads.finish(state.revision);
  return { events, problems: reads.problems, revision: state.revision };
}

/** The event etcd emits for one key changed at `revision`. */
export function toEvent(change: Change, revision: number): Event {
  if (change.next) {
    return change.prev
      ? { type: "PUT", kv: change.next, prevKv: change.prev }
      : { type: "PUT", kv: change.next };
  }
  const kv = {
    key: change.key,
    value: "",
    createRevision: 0,
    modRevision: revision,
    version: 0,
    lease: 0,
  };
  return { type: "DELETE", kv, prevKv: change.prev };
}

/** Deferred reads waiting for the store to reach the revision they read. */
class ReadsByRevision {
  readonly problems: string[] = [];
  readonly #waiting: { op: PreparedOp; at: number }[];
  #next = 0;

  constructor(deferred: PreparedOp[]) {
    this.#waiting = deferred.map((op) => ({ op, at: readRevision(op) })).sort((a, b) =>
      a.at - b.at
    );
  }

  /** Checks every read of the store's current revision (older ones predate the history). */
  check(state: KvState): void {
    while (this.#next < this.#waiting.length && this.#waiting[this.#next].at <= state.revision) {
      const { op, at } = this.#waiting[this.#next++];
      if (at === state.revision) this.#checkOne(op, state);
    }
  }

  finish(revision: number): void {
    for (const { op, at } of this.#waiting.slice(this.#next)) {
      this.problems.push(
        `${describeOp(op)}: read revision ${at}, beyond the history's last (${revision})`,
      );
    }
    for (const { op } of this.#waiting) {
      const outcome = op.operation.outcome;
      if (outcome.status === "ok" && outcome.revision > revision) {
        this.problems.push(
          `${
            describeOp(op)
          }: answered at revision ${outcome.revision}, beyond the history's last ` +
            `(${revision})`,
        );
      }
    }
  }

  #checkOne(op: PreparedOp, state: KvState): void {
    const outcome = op.operation.outcome;
    if (outcome.status !== "ok" || op.request.type !== "range") return;
    if (op.request.revision && op.request.revision > outcome.revision) {
      this.problems.push(`${describeOp(op)}: answered for a revision ahead of its header`);
      return;
    }
    const want = {
      status: "ok" as const,
      revision: outcome.revision,
      result: range(state, op.request),
    };
    const why = mismatch(op.request, outcome, want);
    if (why) this.problems.push(`${describeOp(op)}: ${why} (store at revision ${state.revision})`);
  }
}

/** The revision a deferred read saw: the one it asked for, else its header's. */
function readRevision(op: PreparedOp): number {
  const outcome = op.operation.outcome;
  if (op.request.type === "range" && op.request.revision) return op.request.revision;
  return outcome.status === "ok" ? outcome.revision : 0;
}
