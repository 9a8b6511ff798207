// One key's stored revisions, in memory (etcd's keyIndex, mvcc/key_index.go). etcd groups them
// in generations, each a run of puts ended by a deletion; here they are one list in the order
// they were made, and a deletion ends a generation. Each revision names the `rev` row that holds
// the change, so that reads go from here straight to rows by id.
import { assert } from "../assert/mod.ts";

/** What a key is now, for a put that replaces it and for reads of the current revision. */
export interface CurrentKey {
  /** The rev row holding the current value. */
  id: number;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: bigint;
}

// Shared by new key indexes until their first revision replaces it; never written.
const NO_REVISIONS = Object.freeze([]) as unknown as number[];

export class KeyIndex {
  // (main revision, row id) pairs, oldest first; a deletion's row id is negated. Row ids grow
  // with (main, sub), so "later" is "larger id", also within one main revision.
  #revs: number[] = NO_REVISIONS;
  // The current generation's first revision, version and lease (meaningless once deleted).
  #created = 0;
  #version = 0;
  #lease = 0n;

  constructor(readonly key: string) {}

  /** Number of stored revisions (etcd counts these as the index's revisions). */
  get revisions(): number {
    return this.#revs.length / 2;
  }

  /** Whether the key exists at the newest revision. */
  get exists(): boolean {
    const n = this.#revs.length;
    return n > 0 && this.#revs[n - 1] > 0;
  }

  /** The key now, or undefined when it does not exist. */
  current(): CurrentKey | undefined {
    const n = this.#revs.length;
    if (n === 0 || this.#revs[n - 1] < 0) return undefined;
    return {
      id: this.#revs[n - 1],
      createRevision: this.#created,
      modRevision: this.#revs[n - 2],
      version: this.#version,
      lease: this.#lease,
    };
  }

  /** Records a put (row `id`) at `main`, as the current value. */
  put(main: number, id: number, createRevision: number, version: number, lease: bigint): void {
    this.#append(main, id);
    this.#created = createRevision;
    this.#version = version;
    this.#lease = lease;
  }

  /** Records a deletion (row `id`) at `main`. */
  tombstone(main: number, id: number): void {
    this.#append(main, -id);
    this.#version = 0;
    this.#lease = 0n;
  }

  #append(main: number, id: number): void {
    const n = this.#revs.length;
    // Changes are applied in revision order; a smaller one would corrupt every later read.
    assert(
      n === 0 || (main >= this.#revs[n - 2] && Math.abs(id) > Math.abs(this.#revs[n - 1])),
      `mvcc: revision ${main} (row ${Math.abs(id)}) of a key after row ${
        Math.abs(this.#revs[n - 1])
      }`,
    );
    // The first revision gets an array of exactly two (a push would reserve seventeen slots).
    if (n === 0) this.#revs = [main, id];
    else this.#revs.push(main, id);
  }

  /** The row holding the key's value at revision `rev`; undefined if it did not exist then.
   * It is also what a compaction at `rev` keeps of the key (etcd's keyIndex.keep). */
  at(rev: number): number | undefined {
    const i = this.#latestAt(rev);
    return i >= 0 && this.#revs[i + 1] > 0 ? this.#revs[i + 1] : undefined;
  }

  /** The change made before row `id` (a later one of the key, or the key's latest), as a row
   * id, when it was a put still stored; undefined otherwise. */
  before(id: number): number | undefined {
    const revs = this.#revs;
    for (let i = revs.length - 2; i >= 0; i -= 2) {
      const rowId = Math.abs(revs[i + 1]);
      if (rowId < id) return revs[i + 1] > 0 ? rowId : undefined;
    }
    return undefined;
  }

  /** Row ids of the changes with revisions in [from, to], oldest first (deletions too). */
  between(from: number, to: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#revs.length; i += 2) {
      if (this.#revs[i] > to) break;
      if (this.#revs[i] >= from) out.push(Math.abs(this.#revs[i + 1]));
    }
    return out;
  }

  /**
   * etcd's keyIndex.compact: drops the revisions a compaction at `rev` removes — all but the
   * latest at or below it, and that one too when it is a deletion. Returns the row kept at
   * `rev` (undefined if none); the key index is empty afterwards if nothing remains.
   */
  compact(rev: number): number | undefined {
    const i = this.#latestAt(rev);
    if (i < 0) return undefined;
    const kept = this.#revs[i + 1] > 0 ? this.#revs[i + 1] : undefined;
    const from = kept === undefined ? i + 2 : i;
    if (from > 0) this.#revs.splice(0, from);
    return kept;
  }

  get empty(): boolean {
    return this.#revs.length === 0;
  }

  /** Index into #revs of the latest revision at or below `rev`, -1 if none. */
  #latestAt(rev: number): number {
    const revs = this.#revs;
    for (let i = revs.length - 2; i >= 0; i -= 2) {
      if (revs[i] <= rev) return i;
    }
    return -1;
  }
}
