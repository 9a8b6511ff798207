// The model's store: live keys, live leases and the current revision, changed in place with
// an undo journal (the search backtracks far more often than it copies) and fingerprinted
// incrementally so that a visited (operations, state) pair is recognised in O(1).

import type { InitialState, KeyValue } from "./types.ts";

type Undo =
  | { kind: "kv"; key: string; prev: KeyValue | undefined }
  | { kind: "lease"; id: number; had: boolean }
  | { kind: "revision"; prev: number };

/** One key's change made by an operation: `next` undefined is a deletion. */
export interface Change {
  key: string;
  prev: KeyValue | undefined;
  next: KeyValue | undefined;
}

export class KvState {
  revision: number;
  #kvs = new Map<string, KeyValue>();
  #leases = new Set<number>();
  #journal: Undo[] = [];
  // Two independent 32-bit XOR fingerprints of the keys and leases (Zobrist hashing).
  #h1 = 0;
  #h2 = 0;

  constructor(initial: InitialState = { revision: 1, kvs: [], leases: [] }) {
    this.revision = initial.revision;
    for (const id of initial.leases) this.addLease(id);
    for (const kv of initial.kvs) this.set(kv.key, kv);
    this.#journal = [];
  }

  get(key: string): KeyValue | undefined {
    return this.#kvs.get(key);
  }

  /** Live keys selected by `select`, in key order. */
  keys(select: (key: string) => boolean): string[] {
    const out: string[] = [];
    for (const key of this.#kvs.keys()) if (select(key)) out.push(key);
    return out.sort();
  }

  hasLease(id: number): boolean {
    return this.#leases.has(id);
  }

  leases(): number[] {
    return [...this.#leases].sort((a, b) => a - b);
  }

  set(key: string, kv: KeyValue | undefined): void {
    const prev = this.#kvs.get(key);
    this.#journal.push({ kind: "kv", key, prev });
    this.#write(key, prev, kv);
  }

  addLease(id: number): void {
    this.#journal.push({ kind: "lease", id, had: this.#leases.has(id) });
    this.#lease(id, true);
  }

  removeLease(id: number): void {
    this.#journal.push({ kind: "lease", id, had: this.#leases.has(id) });
    this.#lease(id, false);
  }

  setRevision(revision: number): void {
    this.#journal.push({ kind: "revision", prev: this.revision });
    this.revision = revision;
  }

  /** A point to come back to with undo(). */
  mark(): number {
    return this.#journal.length;
  }

  undo(mark: number): void {
    while (this.#journal.length > mark) {
      const u = this.#journal.pop()!;
      if (u.kind === "kv") this.#write(u.key, this.#kvs.get(u.key), u.prev);
      else if (u.kind === "lease") this.#lease(u.id, u.had);
      else this.revision = u.prev;
    }
  }

  /** The keys changed since `mark`, in the order they were changed. */
  changesSince(mark: number): Change[] {
    const out: Change[] = [];
    for (let i = mark; i < this.#journal.length; i++) {
      const u = this.#journal[i];
      if (u.kind === "kv") out.push({ key: u.key, prev: u.prev, next: this.#kvs.get(u.key) });
    }
    return out;
  }

  /** Equal strings for equal states (up to a 64-bit fingerprint collision). */
  fingerprint(): string {
    return `${this.revision}:${this.#h1}:${this.#h2}`;
  }

  /** The journal is dropped: the copy starts a history of its own. */
  clone(): KvState {
    const kvs = [...this.#kvs.values()];
    return new KvState({ revision: this.revision, kvs, leases: [...this.#leases] });
  }

  describe(): string {
    const keys = this.keys(() => true);
    const lines = [`revision ${this.revision}`];
    for (const key of keys) lines.push(`  ${describeKv(this.#kvs.get(key)!)}`);
    if (keys.length === 0) lines.push("  (no keys)");
    const leases = this.leases();
    if (leases.length > 0) lines.push(`  leases ${leases.join(" ")}`);
    return lines.join("\n");
  }

  #write(key: string, from: KeyValue | undefined, to: KeyValue | undefined): void {
    if (from) this.#toggle(...kvHashes(from));
    if (to) this.#toggle(...kvHashes(to));
    if (to) this.#kvs.set(key, to);
    else this.#kvs.delete(key);
  }

  #lease(id: number, live: boolean): void {
    if (this.#leases.has(id) === live) return;
    this.#toggle(mixNumber(SEED1 ^ 0x5bd1e995, id), mixNumber(SEED2 ^ 0x5bd1e995, id));
    if (live) this.#leases.add(id);
    else this.#leases.delete(id);
  }

  #toggle(a: number, b: number): void {
    this.#h1 ^= a;
    this.#h2 ^= b;
  }
}

export function describeKv(kv: KeyValue): string {
  const lease = kv.lease ? `, lease ${kv.lease}` : "";
  return `${JSON.stringify(kv.key)} = ${JSON.stringify(kv.value)} ` +
    `(create ${kv.createRevision}, mod ${kv.modRevision}, version ${kv.version}${lease})`;
}

const SEED1 = 0x2545f491;
const SEED2 = 0x6a09e667;

function kvHashes(kv: KeyValue): [number, number] {
  const [k1, k2] = stringHashes(kv.key);
  const [v1, v2] = stringHashes(kv.value);
  return [entryHash(SEED1, k1, v1, kv), entryHash(SEED2, k2, v2, kv)];
}

function entryHash(seed: number, keyHash: number, valueHash: number, kv: KeyValue): number {
  let h = block(block(seed, keyHash), valueHash);
  h = mixNumber(h, kv.createRevision);
  h = mixNumber(h, kv.modRevision);
  h = mixNumber(h, kv.version);
  return finish(mixNumber(h, kv.lease));
}

/** FNV-1a from two offset bases. */
function stringHashes(s: string): [number, number] {
  let a = 0x811c9dc5 ^ SEED1, b = 0x811c9dc5 ^ SEED2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  return [finish(a), finish(b ^ s.length)];
}

/** Murmur3's block step over a safe integer, split into two 32-bit halves. */
function mixNumber(h: number, n: number): number {
  const lo = n >>> 0, hi = Math.floor(n / 0x100000000) | 0;
  return block(block(h, lo), hi);
}

function block(h: number, x: number): number {
  x = Math.imul(x, 0xcc9e2d51);
  x = Math.imul((x << 15) | (x >>> 17), 0x1b873593);
  h ^= x;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
