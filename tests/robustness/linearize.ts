// Wing & Gong's search as Lowe and porcupine run it: walk the history's call and return
// events in time order; at a call, try to linearize that operation now; at the return of an
// operation not yet linearized, undo the last choice. Visited (linearized set, store) pairs
// are remembered, so each is explored once.
//
// One partition: revisions couple every key, so splitting the history by key would lose the
// header-revision checks. The revisions pay that back: a response pins its operation to the
// revision it saw, the store's revision never goes back, and so the search refuses at once
// any step that moves the store past the revision a pending operation still has to see, or
// that writes at a revision something other than what a response saw written there.

import type { Prepared, PreparedOp } from "./history.ts";
import { mismatch } from "./match.ts";
import { type Answer, isWrite, step } from "./model.ts";
import { fitsObserved, type Observations, twinClass } from "./observe.ts";
import { KvState } from "./state.ts";
import { QuietSpans } from "./quiet.ts";
import { Snapshots } from "./snapshots.ts";
import { END, Pool, Timeline } from "./timeline.ts";
import type { InitialState, Outcome } from "./types.ts";
import { LinearizedSet, RevisionBounds } from "./bookkeeping.ts";
import { LeaseOrder, needsNow, neutralLease } from "./lease_order.ts";

export interface SearchStats {
  /** Attempts to linearize an operation. */
  steps: number;
  /** Distinct (linearized set, store) pairs visited. */
  states: number;
}

export interface Failure {
  /** The longest sequence of operations linearized before the search ran out. */
  prefix: number[];
  /** The operation that returned without finding a place. */
  blocking: number;
  /** The operations that could have gone next there (the blocking one included). */
  candidates: number[];
}

export type SearchResult =
  | { verdict: "linearizable"; order: number[]; stats: SearchStats }
  | ({ verdict: "not linearizable"; stats: SearchStats } & Failure)
  | { verdict: "undecided"; stats: SearchStats; deepest?: Failure };

export function search(prepared: Prepared, initial: InitialState, maxSteps: number): SearchResult {
  return new Search(prepared.ops, prepared.observations, initial).run(maxSteps);
}

class Search {
  readonly state: KvState;
  readonly list: Timeline;
  readonly bounds: RevisionBounds;
  readonly linearized: LinearizedSet;
  /** See lease_order.ts: `awaiting` is the unknown lease operation just taken, if any. */
  readonly leases: LeaseOrder;
  readonly quiet: QuietSpans;
  /** Answered reads pinned to one revision. */
  readonly pureRead: boolean[];
  awaiting = 0;
  readonly seen = new Set<string>();
  readonly stack: Choice[] = [];
  readonly snapshots: Snapshots;
  readonly taken: Uint8Array;
  readonly pool: Pool;
  steps = 0;
  best: Failure | undefined;

  constructor(
    readonly ops: PreparedOp[],
    readonly observations: Observations,
    initial: InitialState,
  ) {
    this.state = new KvState(initial);
    this.list = new Timeline(ops);
    this.bounds = new RevisionBounds(ops);
    this.linearized = new LinearizedSet(ops.length);
    this.taken = new Uint8Array(ops.length);
    // An unknown write other than a lease's, if it happened at all, created a revision.
    this.pool = new Pool(ops, (op) => neutralLease(op) === 0, twinClass(ops, observations));
    this.leases = new LeaseOrder(ops);
    this.quiet = new QuietSpans(ops);
    this.pureRead = ops.map((op) =>
      op.kind === "known" && op.before !== undefined && !isWrite(op.request)
    );
    this.snapshots = new Snapshots(ops);
    for (const id of this.snapshots.before(initial.revision)) this.take(id);
    if (this.snapshots.fit(this.state)) this.placeSnapshots();
  }

  run(maxSteps: number): SearchResult {
    const list = this.list;
    // At a node the candidates are the calls before the first return in the list (entry `e`
    // walks them), then the unknown writes called by that return (pool index `k`).
    let e = list.first(), k = -1;
    while (list.pendingReturns > 0) {
      if (this.steps >= maxSteps) {
        return { verdict: "undecided", stats: this.stats(), deepest: this.best };
      }
      if (e === END) throw new Error("search walked past every return event");
      let tried: Try;
      if (k < 0 && list.isCall[e]) {
        tried = this.tryLinearize(list.op[e], e, -1);
        if (tried === Try.Dead) this.noteFailure(list.op[e], e);
        if (tried === Try.Skip) e = list.next[e];
      } else {
        const gap = this.state.revision < this.bounds.min();
        k = this.pool.next(Math.max(k, 0), list.time[e], gap, this.taken);
        if (k < this.pool.ids.length) tried = this.tryLinearize(this.pool.ids[k], e, k);
        else [tried] = [Try.Dead, this.noteFailure(list.op[e], e)];
        if (tried === Try.Skip) k++;
      }
      if (tried === Try.Placed) [e, k] = [list.first(), -1];
      if (tried !== Try.Dead) continue;
      const back = this.retreat();
      if (!back) return { verdict: "not linearizable", ...this.best!, stats: this.stats() };
      [e, k] = back;
    }
    return { verdict: "linearizable", order: this.stack.map((s) => s.id), stats: this.stats() };
  }

  /**
   * Linearizes operation `id` now if it fits; `e` and `k` say where it was found. An
   * operation that leaves the store as it is and fits now may as well go now: every order
   * with it later works with it here. So the search takes it without trying the others
   * ("forced"), and a node where it leads nowhere is dead. So too a lease grant or revoke
   * that nothing pending naming its lease can precede.
   */
  tryLinearize(id: number, e: number, k: number): Try {
    this.steps++;
    const op = this.ops[id], s = this.state, from = s.revision;
    const leases = this.leases;
    if (this.awaiting !== 0 && !needsNow(leases.needs[id], this.awaiting)) return Try.Skip;
    if (op.before !== undefined && from !== op.before) return Try.Skip;
    if (op.latest !== undefined && from > op.latest) return Try.Skip;
    const mark = s.mark();
    if (!accepts(op, step(s, op.request), s.mark() !== mark, s.revision)) {
      s.undo(mark);
      // A read of this revision that does not fit never will: its keys stay as they are.
      return this.pureRead[id] ? Try.Dead : Try.Skip;
    }
    this.take(id);
    const wrote = s.revision !== from;
    const fits = !wrote || (fitsObserved(this.observations, s, mark) &&
      this.quiet.allows(s.changesSince(mark), s.revision) && this.snapshots.fit(s));
    const awaits = wrote ? 0 : leases.neutral[id];
    const wanted = !awaits || leases.wanted(id, this.taken, this.list.frontier());
    // (An unknown operation is never forced: not happening at all is its other choice.)
    const forced = this.awaiting === 0 &&
      (s.mark() === mark || (!wrote && op.kind !== "optional" && leases.alone(id, this.taken)));
    if (!fits || !wanted || s.revision > this.bounds.min() || !this.remember(awaits)) {
      this.untake(id);
      s.undo(mark);
      return forced && fits ? Try.Dead : Try.Skip;
    }
    this.stack.push({ id, mark, awaiting: this.awaiting, e, k, wrote, forced });
    this.awaiting = awaits;
    this.list.lift(id);
    if (wrote) this.placeSnapshots();
    return Try.Placed;
  }

  /** Leaves a dead node: undoes choices up to one that has alternatives left. */
  retreat(): [number, number] | undefined {
    while (this.stack.length > 0) {
      const { forced, at } = this.backtrack();
      if (!forced) return at;
    }
    return undefined;
  }

  /** The reads of the store's new revision, checked by fit(), are linearized with it. */
  placeSnapshots(): void {
    for (const id of this.snapshots.at(this.state.revision)) this.take(id);
  }

  /** Undoes the last choice; says where to go on looking at that node. */
  backtrack(): { forced: boolean; at: [number, number] } {
    const { id, mark, awaiting, e, k, wrote, forced } = this.stack.pop()!;
    if (wrote) {
      for (const s of this.snapshots.at(this.state.revision).toReversed()) this.untake(s);
    }
    this.state.undo(mark);
    this.untake(id);
    this.awaiting = awaiting;
    this.list.unlift(id);
    return { forced, at: k < 0 ? [this.list.next[e], -1] : [e, k + 1] };
  }

  remember(awaiting: number): boolean {
    const key = `${this.linearized.fingerprint()},${awaiting},${this.state.fingerprint()}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  take(id: number): void {
    this.taken[id] = 1;
    this.linearized.toggle(id);
    this.bounds.remove(id);
    if (this.ops[id].kind === "snapshot") this.list.lift(id);
  }

  untake(id: number): void {
    if (this.ops[id].kind === "snapshot") this.list.unlift(id);
    this.taken[id] = 0;
    this.linearized.toggle(id);
    this.bounds.restore(id);
  }

  /** Keeps the deepest dead end: `blocking` could not be placed, the calls before `e` tried. */
  noteFailure(blocking: number, e: number): void {
    if (this.best && this.best.prefix.length >= this.stack.length) return;
    const prefix = this.stack.map((s) => s.id);
    const candidates = this.list.callsBefore(e);
    if (!candidates.includes(blocking)) candidates.push(blocking);
    this.best = { prefix, blocking, candidates };
  }

  stats(): SearchStats {
    return { steps: this.steps, states: this.seen.size };
  }
}

/** A step of the search: where it was found, what it undoes, whether it made a revision. */
interface Choice {
  id: number;
  mark: number;
  awaiting: number;
  e: number;
  k: number;
  wrote: boolean;
  forced: boolean;
}

/** What trying an operation at a node did: placed it, passed over it, or killed the node. */
const enum Try {
  Placed,
  Skip,
  Dead,
}

/** Whether the model's answer fits what the client recorded. */
function accepts(op: PreparedOp, answer: Answer, changed: boolean, revision: number): boolean {
  if (op.kind === "known") {
    return mismatch(op.request, op.operation.outcome as KnownOutcome, answer) === undefined;
  }
  if (answer.status !== "ok") return false;
  // An unknown write that changes nothing is the same as one that never happened.
  if (op.kind === "optional") return changed;
  return op.before === undefined || revision === op.before + 1;
}

type KnownOutcome = Exclude<Outcome, { status: "unknown" }>;
