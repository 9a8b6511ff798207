// The history's call and return events in time order, as a doubly linked list from which
// the search lifts an operation's two events when it linearizes it and puts them back
// (dancing links, in reverse order) when it backtracks. Unknown writes that may never have
// happened have no return and stay candidates to the end: they are kept apart, in a pool
// the search walks only where one of them can fit.

import type { PreparedOp } from "./history.ts";

export const END = -1;

export class Timeline {
  /** The list's head entry; the first event is next[head]. */
  readonly head: number;
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** Per entry: its operation, and whether it is the call (else the return). */
  readonly op: Int32Array;
  readonly isCall: Uint8Array;
  readonly time: Float64Array;
  readonly #call: Int32Array;
  readonly #return: Int32Array;
  /** Return events still in the list: the search is done when none is left. */
  pendingReturns: number;

  constructor(ops: PreparedOp[]) {
    const entries: { time: number; call: boolean; op: number }[] = [];
    for (const op of ops) {
      // A snapshot is placed when the store reaches its revision: it has only a deadline.
      if (op.kind !== "optional" && op.kind !== "snapshot") {
        entries.push({ time: op.call, call: true, op: op.id });
      }
      if (op.kind !== "optional") entries.push({ time: op.ret, call: false, op: op.id });
    }
    // At equal times calls go first: operations that touch count as concurrent.
    entries.sort((a, b) => a.time - b.time || Number(b.call) - Number(a.call) || a.op - b.op);
    const m = entries.length;
    this.head = m;
    this.next = new Int32Array(m + 1);
    this.prev = new Int32Array(m + 1);
    this.op = new Int32Array(m);
    this.isCall = new Uint8Array(m);
    this.time = new Float64Array(m);
    this.#call = new Int32Array(ops.length).fill(END);
    this.#return = new Int32Array(ops.length).fill(END);
    let last = this.head;
    entries.forEach((entry, i) => {
      this.op[i] = entry.op;
      this.isCall[i] = entry.call ? 1 : 0;
      this.time[i] = entry.time;
      if (entry.call) this.#call[entry.op] = i;
      else this.#return[entry.op] = i;
      this.next[last] = i;
      this.prev[i] = last;
      last = i;
    });
    this.next[last] = END;
    this.pendingReturns = entries.filter((entry) => !entry.call).length;
  }

  first(): number {
    return this.next[this.head];
  }

  /** The entry after operation `id`'s call (valid while the call is in the list). */
  afterCall(id: number): number {
    return this.next[this.#call[id]];
  }

  /** Takes an operation's events out (an unknown write in the pool has none). */
  lift(id: number): void {
    const c = this.#call[id], r = this.#return[id];
    if (c !== END) this.#unlink(c);
    if (r === END) return;
    this.#unlink(r);
    this.pendingReturns--;
  }

  unlift(id: number): void {
    const c = this.#call[id], r = this.#return[id];
    if (r !== END) {
      this.#relink(r);
      this.pendingReturns++;
    }
    if (c !== END) this.#relink(c);
  }

  /** The time of the first return still in the list: no call after it is a candidate yet. */
  frontier(): number {
    let e = this.first();
    while (e !== END && this.isCall[e]) e = this.next[e];
    return e === END ? Infinity : this.time[e];
  }

  /** The operations whose calls come before entry `e`. */
  callsBefore(e: number): number[] {
    const out: number[] = [];
    for (let c = this.first(); c !== e && c !== END; c = this.next[c]) {
      if (this.isCall[c]) out.push(this.op[c]);
    }
    return out;
  }

  #unlink(e: number): void {
    const p = this.prev[e], n = this.next[e];
    this.next[p] = n;
    if (n !== END) this.prev[n] = p;
  }

  #relink(e: number): void {
    const p = this.prev[e], n = this.next[e];
    this.next[p] = e;
    if (n !== END) this.prev[n] = e;
  }
}

/**
 * Unknown writes, writes that bump the revision first, then lease grants and revokes (which
 * do not), each part in call order. Only a gap in the revisions (the store behind every
 * pending response) has room for one of the former. Of twins (writes whose differences
 * nothing shows) only the earliest unused is a candidate.
 */
export class Pool {
  readonly ids: number[];
  readonly neutralStart: number;
  readonly #call: number[];
  readonly #previousTwin: Int32Array;

  constructor(
    ops: PreparedOp[],
    bumps: (op: PreparedOp) => boolean,
    twin: (op: PreparedOp) => string | undefined,
  ) {
    const optional = ops.filter((op) => op.kind === "optional").sort((a, b) => a.call - b.call);
    const bumping = optional.filter(bumps), neutral = optional.filter((op) => !bumps(op));
    this.ids = [...bumping, ...neutral].map((op) => op.id);
    this.neutralStart = bumping.length;
    this.#call = ops.map((op) => op.call);
    this.#previousTwin = new Int32Array(ops.length).fill(-1);
    const last = new Map<string, number>();
    for (const op of optional) {
      const cls = twin(op);
      if (cls === undefined) continue;
      this.#previousTwin[op.id] = last.get(cls) ?? -1;
      last.set(cls, op.id);
    }
  }

  /** The first candidate at or after `k` called by `limit` and not taken; ids.length if none. */
  next(k: number, limit: number, gap: boolean, taken: Uint8Array): number {
    const n = this.ids.length;
    if (!gap && k < this.neutralStart) k = this.neutralStart;
    for (; k < n; k++) {
      const id = this.ids[k];
      if (this.#call[id] > limit) {
        if (k >= this.neutralStart) return n;
        k = this.neutralStart - 1;
        continue;
      }
      const twin = this.#previousTwin[id];
      if (!taken[id] && (twin < 0 || taken[twin])) return k;
    }
    return n;
  }
}
