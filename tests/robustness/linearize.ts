// Wing & Gong's search as Lowe and porcupine run it: walk the history's call and return
// events in time order; at a call, try to linearize that operation now; at the return of an
// operation not yet linearized, undo the last choice. Visited (linearized set, store) pairs
// are remembered, so each is explored once.
//
// One partition: revisions couple every key, so splitting the history by key would lose the
// header-revision checks. The revisions pay that back: a response pins its operation to the
// revision it saw, the store's revision never goes back, and so the search refuses at once
// any step that moves the store past the revision a pending operation still has to see.

import type { PreparedOp } from "./history.ts";
import { mismatch } from "./match.ts";
import { type Answer, step } from "./model.ts";
import { KvState } from "./state.ts";
import type { InitialState, Outcome } from "./types.ts";

export interface SearchStats {
  /** Attempts to linearize an operation. */
  steps: number;
  /** Distinct (linearized set, store) pairs visited. */
  states: number;
}

export type SearchResult =
  | { verdict: "linearizable"; order: number[]; stats: SearchStats }
  | {
    verdict: "not linearizable";
    /** The longest sequence of operations linearized before the search ran out. */
    prefix: number[];
    /** The operation that returned without finding a place. */
    blocking: number;
    /** The operations that could have gone next there (the blocking one included). */
    candidates: number[];
    stats: SearchStats;
  }
  | { verdict: "undecided"; stats: SearchStats };

export function search(ops: PreparedOp[], initial: InitialState, maxSteps: number): SearchResult {
  return new Search(ops, initial).run(maxSteps);
}

const END = -1;

class Search {
  readonly state: KvState;
  // The call and return events as a doubly linked list; the head is entry `head`.
  readonly head: number;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly entryOp: Int32Array;
  readonly isCall: Uint8Array;
  readonly callEntry: Int32Array;
  readonly returnEntry: Int32Array;
  pendingReturns = 0;
  // Zobrist fingerprint of the linearized set.
  readonly z1: Int32Array;
  readonly z2: Int32Array;
  b1 = 0;
  b2 = 0;
  readonly bounds: RevisionBounds;
  readonly seen = new Set<string>();
  readonly stackOps: number[] = [];
  readonly stackMarks: number[] = [];
  steps = 0;
  best: { prefix: number[]; blocking: number; candidates: number[] } | undefined;

  constructor(readonly ops: PreparedOp[], initial: InitialState) {
    this.state = new KvState(initial);
    const entries: { time: number; call: boolean; op: number }[] = [];
    for (const op of ops) {
      entries.push({ time: op.call, call: true, op: op.id });
      if (op.kind !== "optional") entries.push({ time: op.ret, call: false, op: op.id });
    }
    // At equal times calls go first: operations that touch count as concurrent.
    entries.sort((a, b) => a.time - b.time || Number(b.call) - Number(a.call) || a.op - b.op);
    const m = entries.length;
    this.head = m;
    this.next = new Int32Array(m + 1);
    this.prev = new Int32Array(m + 1);
    this.entryOp = new Int32Array(m);
    this.isCall = new Uint8Array(m);
    this.callEntry = new Int32Array(ops.length);
    this.returnEntry = new Int32Array(ops.length).fill(END);
    let last = this.head;
    entries.forEach((entry, i) => {
      this.entryOp[i] = entry.op;
      this.isCall[i] = entry.call ? 1 : 0;
      if (entry.call) this.callEntry[entry.op] = i;
      else this.returnEntry[entry.op] = i;
      this.next[last] = i;
      this.prev[i] = last;
      last = i;
    });
    this.next[last] = END;
    this.pendingReturns = m - ops.length;
    [this.z1, this.z2] = zobrist(ops.length);
    this.bounds = new RevisionBounds(ops);
  }

  run(maxSteps: number): SearchResult {
    let e = this.next[this.head];
    while (this.pendingReturns > 0) {
      if (this.steps >= maxSteps) return { verdict: "undecided", stats: this.stats() };
      if (e === END) throw new Error("search walked past every return event");
      if (this.isCall[e] && this.tryLinearize(this.entryOp[e])) {
        e = this.next[this.head];
      } else if (this.isCall[e]) {
        e = this.next[e];
      } else {
        this.noteFailure(e);
        if (this.stackOps.length === 0) {
          return { verdict: "not linearizable", ...this.best!, stats: this.stats() };
        }
        e = this.backtrack();
      }
    }
    return { verdict: "linearizable", order: [...this.stackOps], stats: this.stats() };
  }

  tryLinearize(id: number): boolean {
    this.steps++;
    const op = this.ops[id], s = this.state;
    if (op.before !== undefined && s.revision !== op.before) return false;
    if (op.latest !== undefined && s.revision > op.latest) return false;
    const mark = s.mark();
    if (!accepts(op, step(s, op.request), s.mark() !== mark, s.revision)) {
      s.undo(mark);
      return false;
    }
    this.take(id);
    if (s.revision > this.bounds.min() || !this.remember()) {
      this.untake(id);
      s.undo(mark);
      return false;
    }
    this.stackOps.push(id);
    this.stackMarks.push(mark);
    this.lift(id);
    return true;
  }

  backtrack(): number {
    const id = this.stackOps.pop()!;
    this.state.undo(this.stackMarks.pop()!);
    this.untake(id);
    this.unlift(id);
    return this.next[this.callEntry[id]];
  }

  remember(): boolean {
    const key = `${this.b1},${this.b2},${this.state.fingerprint()}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }

  take(id: number): void {
    this.b1 ^= this.z1[id];
    this.b2 ^= this.z2[id];
    this.bounds.remove(id);
  }

  untake(id: number): void {
    this.b1 ^= this.z1[id];
    this.b2 ^= this.z2[id];
    this.bounds.restore(id);
  }

  lift(id: number): void {
    this.unlink(this.callEntry[id]);
    const r = this.returnEntry[id];
    if (r === END) return;
    this.unlink(r);
    this.pendingReturns--;
  }

  // Dancing links: entries come back in the reverse order they left.
  unlift(id: number): void {
    const r = this.returnEntry[id];
    if (r !== END) {
      this.relink(r);
      this.pendingReturns++;
    }
    this.relink(this.callEntry[id]);
  }

  unlink(e: number): void {
    const p = this.prev[e], n = this.next[e];
    this.next[p] = n;
    if (n !== END) this.prev[n] = p;
  }

  relink(e: number): void {
    const p = this.prev[e], n = this.next[e];
    this.next[p] = e;
    if (n !== END) this.prev[n] = e;
  }

  noteFailure(e: number): void {
    if (this.best && this.best.prefix.length >= this.stackOps.length) return;
    const candidates: number[] = [];
    for (let c = this.next[this.head]; c !== e; c = this.next[c]) {
      if (this.isCall[c]) candidates.push(this.entryOp[c]);
    }
    this.best = { prefix: [...this.stackOps], blocking: this.entryOp[e], candidates };
  }

  stats(): SearchStats {
    return { steps: this.steps, states: this.seen.size };
  }
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

/** Two random 32-bit words per operation from a fixed seed (mulberry32): runs repeat. */
function zobrist(n: number): [Int32Array, Int32Array] {
  let seed = 0x9e3779b9;
  const next = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return t ^ (t >>> 14);
  };
  const a = new Int32Array(n), b = new Int32Array(n);
  for (let i = 0; i < n; i++) [a[i], b[i]] = [next(), next()];
  return [a, b];
}
