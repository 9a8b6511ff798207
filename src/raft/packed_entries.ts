// The stored log's entries packed for memory: a term, a type and a data span per entry in
// plain number arrays, the data copied into shared slabs. An Entry object with its own
// Uint8Array and ArrayBuffer costs several hundred bytes besides its data, and the log holds
// up to --snapshot-count of them; packed, an entry costs its data and a few dozen bytes.
// Entry objects are made when read, their data a view into a slab. A slab's bytes are never
// written again once an entry is in them, so views handed out stay valid after truncation.

import type { Entry } from "./types.ts";
import { entrySize } from "./util.ts";

/** Slab size: small entries share one; a larger entry gets a slab of its own size. */
const SLAB_BYTES = 256 * 1024;
const EMPTY = new Uint8Array(0);

export class PackedEntries {
  // Entry k (0-based) is log index firstIndex + k.
  #first: number;
  #terms: number[] = [];
  #types: number[] = [];
  #slabs: Uint8Array[] = [];
  #offsets: number[] = [];
  #lengths: number[] = [];
  #slab: Uint8Array = EMPTY;
  #used = 0;
  #dataBytes = 0;

  constructor(firstIndex: number) {
    this.#first = firstIndex;
  }

  get length(): number {
    return this.#terms.length;
  }

  /** The log index of the first entry held. */
  get firstIndex(): number {
    return this.#first;
  }

  /** The bytes of the entries' data and of the slabs holding them. */
  bytes(): { data: number; slabs: number } {
    // An entry's slab is its predecessor's or a newer one (empty entries hold none).
    let slabs = 0;
    let last: Uint8Array = EMPTY;
    for (const s of this.#slabs) {
      if (s === EMPTY || s === last) continue;
      slabs += s.length;
      last = s;
    }
    return { data: this.#dataBytes, slabs };
  }

  term(k: number): number {
    return this.#terms[k];
  }

  at(k: number): Entry {
    const data = this.#lengths[k] === 0
      ? EMPTY
      : this.#slabs[k].subarray(this.#offsets[k], this.#offsets[k] + this.#lengths[k]);
    return { term: this.#terms[k], index: this.#first + k, type: this.#types[k], data };
  }

  /** Entries k in [from, to), at most maxSize encoded bytes but at least one. */
  slice(from: number, to: number, maxSize: number): Entry[] {
    const out: Entry[] = [];
    let size = 0;
    for (let k = from; k < to; k++) {
      const e = this.at(k);
      size += entrySize(e);
      if (out.length > 0 && size > maxSize) break;
      out.push(e);
    }
    return out;
  }

  push(e: Entry): void {
    const n = e.data.length;
    this.#terms.push(e.term);
    this.#types.push(e.type);
    this.#lengths.push(n);
    this.#dataBytes += n;
    if (n === 0) {
      this.#slabs.push(EMPTY);
      this.#offsets.push(0);
      return;
    }
    if (this.#used + n > this.#slab.length) {
      this.#slab = new Uint8Array(Math.max(SLAB_BYTES, n));
      this.#used = 0;
    }
    this.#slab.set(e.data, this.#used);
    this.#slabs.push(this.#slab);
    this.#offsets.push(this.#used);
    this.#used += n;
  }

  /** Keeps the first k entries (a conflicting suffix goes; its slab bytes are not reused). */
  truncate(k: number): void {
    for (let i = k; i < this.length; i++) this.#dataBytes -= this.#lengths[i];
    for (const column of this.#columns()) column.length = k;
  }

  /** Drops the first k entries; slabs no longer referenced go with them. */
  dropFront(k: number): void {
    for (let i = 0; i < k; i++) this.#dataBytes -= this.#lengths[i];
    for (const column of this.#columns()) column.splice(0, k);
    this.#first += k;
  }

  #columns(): unknown[][] {
    return [this.#terms, this.#types, this.#slabs, this.#offsets, this.#lengths];
  }
}
