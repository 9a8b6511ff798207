// The in-memory index of every stored change by key (etcd's treeIndex, mvcc/index.go): the `rev`
// table is written append-only in revision order and never searched by key; reads at any
// revision, counts, compaction and HashKV ask this index which rows they need, then read those
// rows by id. It is rebuilt by one scan of the table when a store opens.
import { assert } from "../assert/mod.ts";
import type { Backend } from "./backend.ts";
import { type CurrentKey, KeyIndex } from "./key_index.ts";
import { bytesToBinary, type KeyRange } from "./key_range.ts";
import { OrderedKeys } from "./ordered_keys.ts";

/** A set of row ids: one per key at most (what compaction keeps), so a sorted array of them is
 * smaller than a Set and, unlike a bitmap, does not grow with the ids themselves. */
export class IdSet {
  #added: number[] = [];
  #sorted?: Float64Array;

  add(id: number): void {
    this.#added.push(id);
    this.#sorted = undefined;
  }

  has(id: number): boolean {
    const ids = this.#sorted ??= Float64Array.from(this.#added).sort();
    let lo = 0, hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo < ids.length && ids[lo] === id;
  }
}

/** The key indexes and rows a range read needs, in key order. */
export interface RangeRows {
  entries: KeyIndex[];
  ids: number[];
}

const LOAD_PAGE = 20_000;
const LOAD_ROWS = "SELECT id, main, key, create_rev, version, " +
  `iif(lease = 0, 0, CAST(lease AS TEXT)) FROM rev WHERE id > ? ORDER BY id LIMIT ${LOAD_PAGE}`;

export class TreeIndex {
  readonly #keys = new OrderedKeys<KeyIndex>();
  #live = 0; // keys that exist now

  /** Builds the index from every row, in id (revision) order; also the highest main revision
   * and row id seen. */
  static load(be: Backend): { index: TreeIndex; maxMain: number; maxId: number } {
    const index = new TreeIndex();
    let maxMain = 0, lastId = 0;
    for (;;) {
      const rows = be.all(LOAD_ROWS, lastId);
      for (const row of rows) {
        const id = row[0] as number, main = row[1] as number, version = row[4] as number;
        const ki = index.entry(bytesToBinary(row[2] as Uint8Array));
        if (version === 0) {
          // A deletion whose put compaction removed stays recorded, so the index lists every row.
          if (ki.exists) index.tombstone(ki, main, id);
          else ki.tombstone(main, id);
        } else {
          const lease = row[5] === 0 ? 0n : BigInt(row[5] as string);
          index.put(ki, main, id, row[3] as number, version, lease);
        }
        maxMain = main;
        lastId = id;
      }
      if (rows.length < LOAD_PAGE) break;
    }
    return { index, maxMain, maxId: lastId };
  }

  /** Keys that exist now. */
  get keyCount(): number {
    return this.#live;
  }

  /** The key's index, if it has stored revisions. */
  get(key: string): KeyIndex | undefined {
    return this.#keys.get(key);
  }

  current(key: Uint8Array): CurrentKey | undefined {
    return this.#keys.get(bytesToBinary(key))?.current();
  }

  /** The key's index, created empty when it has none (a put then records the first revision). */
  entry(key: string): KeyIndex {
    let ki = this.#keys.get(key);
    if (ki === undefined) this.#keys.insert(ki = new KeyIndex(key));
    return ki;
  }

  put(
    ki: KeyIndex,
    main: number,
    id: number,
    createRevision: number,
    version: number,
    lease: bigint,
  ): void {
    if (!ki.exists) this.#live++;
    ki.put(main, id, createRevision, version, lease);
  }

  tombstone(ki: KeyIndex, main: number, id: number): void {
    assert(ki.exists, "mvcc: deletion of a key that does not exist");
    this.#live--;
    ki.tombstone(main, id);
  }

  /** The key indexes in a range, in key order (empty ones included). */
  *visit(r: KeyRange): Generator<KeyIndex> {
    switch (r.kind) {
      case "single": {
        const ki = this.#keys.get(bytesToBinary(r.key));
        if (ki !== undefined) yield ki;
        return;
      }
      case "from":
        yield* this.#keys.ascend(bytesToBinary(r.key));
        return;
      case "between":
        yield* this.#keys.ascend(bytesToBinary(r.key), bytesToBinary(r.end));
        return;
    }
  }

  /** etcd's Range: the keys in `r` that existed at `rev` and their rows, at most `limit`
   * (0 = no limit). */
  rangeAt(r: KeyRange, rev: number, limit: number): RangeRows {
    const out: RangeRows = { entries: [], ids: [] };
    if (r.kind === "single") {
      // The common read, without a generator.
      const ki = this.#keys.get(bytesToBinary(r.key));
      const id = ki?.at(rev);
      if (id !== undefined) [out.entries[0], out.ids[0]] = [ki!, id];
      return out;
    }
    for (const ki of this.visit(r)) {
      const id = ki.at(rev);
      if (id === undefined) continue;
      out.entries.push(ki);
      out.ids.push(id);
      if (limit > 0 && out.ids.length >= limit) break;
    }
    return out;
  }

  /** How many keys in `r` existed at `rev`. */
  countAt(r: KeyRange, rev: number): number {
    let n = 0;
    for (const ki of this.visit(r)) if (ki.at(rev) !== undefined) n++;
    return n;
  }

  /**
   * etcd's Keep: the rows a compaction at `rev` would keep, one per key that existed then;
   * `found` is false when no key existed at `rev`.
   */
  keep(rev: number): { rows: IdSet; found: boolean } {
    const rows = new IdSet();
    let found = false;
    for (const ki of this.#keys.ascend("")) {
      const id = ki.at(rev);
      if (id === undefined) continue;
      rows.add(id);
      found = true;
    }
    return { rows, found };
  }

  /**
   * etcd's Compact: drops from the index every revision a compaction at `rev` removes, and the
   * keys left with none; returns the rows at or below `rev` that stay (every other row at or
   * below it goes).
   */
  compact(rev: number): IdSet {
    const kept = new IdSet();
    this.#keys.retain((ki) => {
      const id = ki.compact(rev);
      if (id !== undefined) kept.add(id);
      return !ki.empty;
    });
    return kept;
  }

  /** Keys that exist now with a lease attached. */
  leased(): { key: string; lease: bigint }[] {
    const out: { key: string; lease: bigint }[] = [];
    for (const ki of this.#keys.ascend("")) {
      const cur = ki.current();
      if (cur !== undefined && cur.lease !== 0n) out.push({ key: ki.key, lease: cur.lease });
    }
    return out;
  }
}
