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
import { type Answer, step } from "./model.ts";
import { fitsObserved, type Observations } from "./observe.ts";
import { KvState } from "./state.ts";
import { Snapshots } from "./snapshots.ts";
import { END, Pool, Timeline } from "./timeline.ts";
import type { InitialState, Outcome, Request } from "./types.ts";

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
  | { verdict: "undecided"; stats: SearchStats };

export function search(prepared: Prepared, initial: InitialState, maxSteps: number): SearchResult {
  return new Search(prepared.ops, prepared.observations, initial).run(maxSteps);
}

class Search {
  readonly state: KvState;
  readonly list: Timeline;
  readonly bounds: RevisionBounds;
  readonly linearized: LinearizedSet;
  /**
   * An unknown lease grant, or revoke of a lease without keys, changes no revision and only
   * matters to the requests naming its lease. Taking it just before the next of those loses
   * no linearization and keeps it from multiplying the states: `awaiting` is the lease the
   * next operation must name.
   */
  readonly neutralLease: number[];
  readonly refs: number[][];
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
    this.pool = new Pool(ops, (op) => !isLeaseOp(op.request));
    this.neutralLease = ops.map((op) =>
      op.kind === "optional" && isLeaseOp(op.request) ? op.request.id : 0
    );
    this.refs = ops.map((op) => leasesNamed(op.request));
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
      if (this.steps >= maxSteps) return { verdict: "undecided", stats: this.stats() };
      if (e === END) throw new Error("search walked past every return event");
      if (k < 0 && list.isCall[e]) {
        const placed = this.tryLinearize(list.op[e], e, -1);
        e = placed ? list.first() : list.next[e];
        continue;
      }
      const gap = this.state.revision < this.bounds.min();
      k = this.pool.next(Math.max(k, 0), list.time[e], gap, this.taken);
      if (k < this.pool.ids.length) {
        if (this.tryLinearize(this.pool.ids[k], e, k)) [e, k] = [list.first(), -1];
        else k++;
        continue;
      }
      this.noteFailure(e);
      if (this.stack.length === 0) {
        return { verdict: "not linearizable", ...this.best!, stats: this.stats() };
      }
      [e, k] = this.backtrack();
    }
    return { verdict: "linearizable", order: this.stack.map((s) => s.id), stats: this.stats() };
  }

  /** Linearizes operation `id` now if it fits; `e` and `k` say where it was found. */
  tryLinearize(id: number, e: number, k: number): boolean {
    this.steps++;
    const op = this.ops[id], s = this.state, from = s.revision;
    if (this.awaiting !== 0 && !this.refs[id].includes(this.awaiting)) return false;
    if (op.before !== undefined && from !== op.before) return false;
    if (op.latest !== undefined && from > op.latest) return false;
    const mark = s.mark();
    if (!accepts(op, step(s, op.request), s.mark() !== mark, s.revision)) {
      s.undo(mark);
      return false;
    }
    this.take(id);
    const wrote = s.revision !== from;
    const fits = !wrote || (fitsObserved(this.observations, s, mark) && this.snapshots.fit(s));
    const awaits = wrote ? 0 : this.neutralLease[id];
    if (!fits || s.revision > this.bounds.min() || !this.remember(awaits)) {
      this.untake(id);
      s.undo(mark);
      return false;
    }
    this.stack.push({ id, mark, awaiting: this.awaiting, e, k, wrote });
    this.awaiting = awaits;
    this.list.lift(id);
    if (wrote) this.placeSnapshots();
    return true;
  }

  /** The reads of the store's new revision, checked by fit(), are linearized with it. */
  placeSnapshots(): void {
    for (const id of this.snapshots.at(this.state.revision)) this.take(id);
  }

  /** Undoes the last choice; returns where to go on looking at that node. */
  backtrack(): [number, number] {
    const { id, mark, awaiting, e, k, wrote } = this.stack.pop()!;
    if (wrote) {
      for (const s of this.snapshots.at(this.state.revision).toReversed()) {
        this.untake(s);
      }
    }
    this.state.undo(mark);
    this.untake(id);
    this.awaiting = awaiting;
    this.list.unlift(id);
    return k < 0 ? [this.list.next[e], -1] : [e, k + 1];
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

  noteFailure(e: number): void {
    if (this.best && this.best.prefix.length >= this.stack.length) return;
    const prefix = this.stack.map((s) => s.id);
    this.best = { prefix, blocking: this.list.op[e], candidates: this.list.callsBefore(e) };
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

function isLeaseOp(request: Request): request is Extract<Request, { id: number }> {
  return request.type === "leaseGrant" || request.type === "leaseRevoke";
}

function leasesNamed(request: Request): number[] {
  if (isLeaseOp(request)) return [request.id];
  if (request.type === "put") return request.lease ? [request.lease] : [];
  if (request.type !== "txn") return [];
  return [...request.success, ...request.failure].flatMap(leasesNamed);
}

/**
 * The smallest `latest` among operations not yet linearized: counts per distinct bound and
 * a pointer to the lowest non-empty one (the search removes and restores in stack order).
 */
class RevisionBounds {
  readonly values: number[];
  readonly index: Int32Array;
  readonly counts: Int32Array;
  lowest = 0;

  constructor(ops: PreparedOp[]) {
    const latest = ops.map((op) => op.latest).filter((v) => v !== undefined);
    this.values = [...new Set(latest)].sort((a, b) => a - b);
    const at = new Map(this.values.map((v, i) => [v, i]));
    this.index = new Int32Array(ops.map((op) => op.latest === undefined ? -1 : at.get(op.latest)!));
    this.counts = new Int32Array(this.values.length);
    for (const i of this.index) if (i >= 0) this.counts[i]++;
    this.#advance();
  }

  min(): number {
    return this.lowest < this.values.length ? this.values[this.lowest] : Infinity;
  }

  remove(id: number): void {
    const i = this.index[id];
    if (i < 0) return;
    this.counts[i]--;
    if (i === this.lowest) this.#advance();
  }

  restore(id: number): void {
    const i = this.index[id];
    if (i < 0) return;
    this.counts[i]++;
    if (i < this.lowest) this.lowest = i;
  }

  #advance(): void {
    while (this.lowest < this.values.length && this.counts[this.lowest] === 0) this.lowest++;
  }
}

/**
 * The linearized set as a 64-bit Zobrist fingerprint: two random words per operation from
 * a fixed seed (mulberry32), so runs repeat. A collision could only prune a branch (a false
 * "not linearizable"), never accept a history; its odds are about 2^-64 per pair.
 */
class LinearizedSet {
  readonly z1: Int32Array;
  readonly z2: Int32Array;
  h1 = 0;
  h2 = 0;

  constructor(n: number) {
    let seed = 0x9e3779b9;
    const next = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return t ^ (t >>> 14);
    };
    this.z1 = new Int32Array(n);
    this.z2 = new Int32Array(n);
    for (let i = 0; i < n; i++) [this.z1[i], this.z2[i]] = [next(), next()];
  }

  toggle(id: number): void {
    this.h1 ^= this.z1[id];
    this.h2 ^= this.z2[id];
  }

  fingerprint(): string {
    return `${this.h1},${this.h2}`;
  }
}
