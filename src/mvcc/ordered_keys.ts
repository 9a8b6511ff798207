// An ordered map from binary-string keys (key_range.ts: string order is byte order) to entries
// that carry their key, for the in-memory key index (etcd keeps its keyIndexes in a B-tree). Two
// levels: the entries in chunks of at most 2 * LOAD, each chunk sorted, and the last key of every
// chunk; a lookup is a binary search over chunks then within one, an insert or removal moves at
// most one chunk's entries.
import { assert } from "../assert/mod.ts";

const LOAD = 256;

export interface Keyed {
  readonly key: string;
}

export class OrderedKeys<T extends Keyed> {
  #chunks: T[][] = [];
  #lasts: string[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(key: string): T | undefined {
    const c = this.#chunkFor(key);
    if (c === this.#chunks.length) return undefined;
    const chunk = this.#chunks[c];
    const i = lowerBound(chunk, key);
    return i < chunk.length && chunk[i].key === key ? chunk[i] : undefined;
  }

  /** Adds `entry`, whose key must not be present yet. */
  insert(entry: T): void {
    const key = entry.key;
    if (this.#chunks.length === 0) {
      this.#chunks.push([entry]);
      this.#lasts.push(key);
      this.#size = 1;
      return;
    }
    // Past every key: the last chunk takes it (its last key moves).
    const c = Math.min(this.#chunkFor(key), this.#chunks.length - 1);
    const chunk = this.#chunks[c];
    const i = lowerBound(chunk, key);
    assert(i === chunk.length || chunk[i].key !== key, "mvcc: key index entry inserted twice");
    chunk.splice(i, 0, entry);
    if (i === chunk.length - 1) this.#lasts[c] = key;
    this.#size++;
    if (chunk.length > 2 * LOAD) {
      const upper = chunk.splice(LOAD);
      this.#chunks.splice(c + 1, 0, upper);
      this.#lasts.splice(c, 0, chunk[chunk.length - 1].key);
    }
  }

  /** Removes the entry of `key`; true if there was one. */
  delete(key: string): boolean {
    const c = this.#chunkFor(key);
    if (c === this.#chunks.length) return false;
    const chunk = this.#chunks[c];
    const i = lowerBound(chunk, key);
    if (i === chunk.length || chunk[i].key !== key) return false;
    chunk.splice(i, 1);
    this.#size--;
    if (chunk.length === 0) {
      this.#chunks.splice(c, 1);
      this.#lasts.splice(c, 1);
    } else {
      this.#lasts[c] = chunk[chunk.length - 1].key;
      // Keeps chunks from thinning out after many removals.
      if (chunk.length < LOAD / 2 && c + 1 < this.#chunks.length) this.#merge(c);
    }
    return true;
  }

  /** Entries with from <= key < to (no upper bound when `to` is undefined), in key order. */
  *ascend(from: string, to?: string): Generator<T> {
    let c = this.#chunkFor(from);
    if (c === this.#chunks.length) return;
    let i = lowerBound(this.#chunks[c], from);
    for (; c < this.#chunks.length; c++, i = 0) {
      const chunk = this.#chunks[c];
      for (; i < chunk.length; i++) {
        const entry = chunk[i];
        if (to !== undefined && entry.key >= to) return;
        yield entry;
      }
    }
  }

  /** Every entry in key order; `keep` false removes it (the walk a compaction makes). */
  retain(keep: (entry: T) => boolean): void {
    const chunks: T[][] = [], lasts: string[] = [];
    let size = 0;
    for (const chunk of this.#chunks) {
      const kept = chunk.filter(keep);
      if (kept.length === 0) continue;
      const prev = chunks[chunks.length - 1];
      if (prev !== undefined && prev.length + kept.length <= LOAD) {
        prev.push(...kept);
        lasts[lasts.length - 1] = kept[kept.length - 1].key;
      } else {
        chunks.push(kept);
        lasts.push(kept[kept.length - 1].key);
      }
      size += kept.length;
    }
    [this.#chunks, this.#lasts, this.#size] = [chunks, lasts, size];
  }

  /** The first chunk whose last key is >= key (the number of chunks if none). */
  #chunkFor(key: string): number {
    const lasts = this.#lasts;
    let lo = 0, hi = lasts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (lasts[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #merge(c: number): void {
    const merged = this.#chunks[c].concat(this.#chunks[c + 1]);
    this.#chunks.splice(c, 2, merged);
    this.#lasts.splice(c, 1);
    if (merged.length > 2 * LOAD) {
      this.#chunks.splice(c + 1, 0, merged.splice(LOAD));
      this.#lasts.splice(c, 0, merged[merged.length - 1].key);
    }
  }
}

/** The first index whose key is >= key. */
function lowerBound<T extends Keyed>(chunk: T[], key: string): number {
  let lo = 0, hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (chunk[mid].key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
