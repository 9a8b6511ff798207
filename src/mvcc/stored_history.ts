// The stored history as etcd's backend holds it in its `key` bucket — every change still
// stored, in (main, sub) revision order, tombstones included — read out for a snapshot while
// the member keeps applying, and loaded into an empty store from an etcd backend.
import { assert } from "../assert/mod.ts";
import { type Backend, KV_COLUMNS, rowToKv } from "./backend.ts";
import type { KeyValue } from "./types.ts";

/** One stored change: its revision and the key's value then (version 0: a deletion). */
export interface StoredChange {
  main: number;
  sub: number;
  kv: KeyValue;
}

/** The revision and compaction points a history read or load is at. */
export interface HistoryPoint {
  /** The store's revision: no change above it is part of the read. */
  rev: number;
  /** Logical compaction revision (etcd's scheduledCompactRev); -1 when never compacted. */
  compactRev: number;
  /** Up to where superseded changes were removed (etcd's finishedCompactRev); -1 when never. */
  compactDone: number;
  consistentIndex: number;
}

const PAGE = `SELECT ${KV_COLUMNS}, r.sub, r.id FROM rev r WHERE r.id > ? AND r.main <= ? ` +
  `ORDER BY r.id LIMIT ?`;

/**
 * A read of every change at or below `point.rev`, a page at a time. New changes get higher
 * revisions and rows are only ever removed by physical compaction, which the store holds off
 * while the cursor is open, so the pages together are the history as it stood when it opened.
 */
export class HistoryCursor {
  #lastId = 0;
  #closed = false;

  constructor(
    private readonly be: Backend,
    readonly point: HistoryPoint,
    private readonly release: () => void,
  ) {}

  /** Up to `limit` changes after the last page; empty once every change was read. */
  next(limit: number): StoredChange[] {
    assert(!this.#closed, "mvcc: history cursor read after close");
    const rows = this.be.all(PAGE, this.#lastId, this.point.rev, limit);
    if (rows.length > 0) this.#lastId = rows.at(-1)![7] as number;
    return rows.map((row) => ({ main: row[2] as number, sub: row[6] as number, kv: rowToKv(row) }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

const INSERT_REV = "INSERT INTO rev (id, main, sub, key, create_rev, version, lease, value) " +
  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

/**
 * Writes `changes` (ascending (main, sub), as etcd's key bucket lists them) into an empty
 * backend; returns the highest revision seen. Runs in the open batch transaction: the caller
 * commits it.
 */
export function loadHistory(be: Backend, changes: Iterable<StoredChange>): number {
  assert(be.maxId() === 0, "mvcc: history loaded into a store that holds some");
  be.begin();
  let id = 0;
  let last = { main: 0, sub: -1 };
  for (const { main, sub, kv } of changes) {
    if (main < last.main || (main === last.main && sub <= last.sub)) {
      throw new RangeError(`mvcc: revision ${main}_${sub} follows ${last.main}_${last.sub}`);
    }
    last = { main, sub };
    const tombstone = kv.version === 0;
    be.run(
      INSERT_REV,
      ++id,
      main,
      sub,
      kv.key,
      tombstone ? 0 : kv.createRevision,
      kv.version,
      tombstone ? 0n : kv.lease,
      tombstone ? new Uint8Array() : kv.value,
    );
  }
  return last.main;
}
