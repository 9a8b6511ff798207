// Key ranges of watchers and the set of synced watchers, indexed by what they watch.
//
// Keys are held as "binary strings" (one UTF-16 unit per byte) so that native string
// comparison orders them exactly as etcd compares bytes.
import { bytesToBinary } from "./key_range.ts";

export interface KeyRange {
  // Start key.
  key: string;
  // undefined: the single key; "": every key >= key; otherwise the exclusive end.
  end: string | undefined;
}

// The watch request's key and range_end as etcd interprets them: an empty key is "\0"; an
// empty range_end watches one key; range_end "\0" watches every key from key on. Returns
// undefined for an empty range (key >= range_end).
export function watchRange(key: Uint8Array, rangeEnd: Uint8Array): KeyRange | undefined {
  const start = key.length === 0 ? "\0" : bytesToBinary(key);
  if (rangeEnd.length === 0) return { key: start, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { key: start, end: "" };
  const end = bytesToBinary(rangeEnd);
  return start < end ? { key: start, end } : undefined;
}

export function inRange(r: KeyRange, key: string): boolean {
  if (r.end === undefined) return key === r.key;
  return key >= r.key && (r.end === "" || key < r.end);
}

// Synced watchers. Single-key watchers are found by a map lookup; ranges are scanned.
export class WatcherGroup<W extends KeyRange> {
  #byKey = new Map<string, Set<W>>();
  #ranges = new Set<W>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(w: W): void {
    if (w.end === undefined) {
      let set = this.#byKey.get(w.key);
      if (!set) this.#byKey.set(w.key, set = new Set());
      set.add(w);
    } else {
      this.#ranges.add(w);
    }
    this.#size++;
  }

  delete(w: W): boolean {
    let removed: boolean;
    if (w.end === undefined) {
      const set = this.#byKey.get(w.key);
      removed = set?.delete(w) ?? false;
      if (set && set.size === 0) this.#byKey.delete(w.key);
    } else {
      removed = this.#ranges.delete(w);
    }
    if (removed) this.#size--;
    return removed;
  }

  *watching(key: string): Generator<W> {
    const set = this.#byKey.get(key);
    if (set) yield* set;
    for (const w of this.#ranges) if (inRange(w, key)) yield w;
  }

  *all(): Generator<W> {
    for (const set of this.#byKey.values()) yield* set;
    yield* this.#ranges;
  }
}
