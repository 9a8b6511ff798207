// The search's bookkeeping: which revisions pending operations still need, and a
// fingerprint of the set of operations linearized so far.

import type { PreparedOp } from "./history.ts";

/**
 * The smallest `latest` among operations not yet linearized: counts per distinct bound and
 * a pointer to the lowest non-empty one (the search removes and restores in stack order).
 */
export class RevisionBounds {
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
export class LinearizedSet {
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
