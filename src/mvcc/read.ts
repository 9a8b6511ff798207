// Range reads at any revision, as etcd's rangeKeys: the key index names each key's row at the
// revision, and the rows are read by id. At the newest revision the index already knows every
// field but the value.
import { MvccError } from "./errors.ts";
import { type Backend, KV_COLUMNS_NO_KEY, KV_COLUMNS_NO_KEY_VALUE, rowToKv } from "./backend.ts";
import type { KeyIndex } from "./key_index.ts";
import { binaryToBytes, type KeyRange, keyRange } from "./key_range.ts";
import type { TreeIndex } from "./tree_index.ts";
import type { KeyValue, RangeOptions, RangeResult } from "./types.ts";
import { TxnTally } from "../metrics/mod.ts";
import type { ReadTxn } from "./kv.ts";

const VALUE = "SELECT value FROM rev WHERE id = ?";
const ROW = `SELECT ${KV_COLUMNS_NO_KEY} FROM rev r WHERE r.id = ?`;
const ROW_NO_VALUE = `SELECT ${KV_COLUMNS_NO_KEY_VALUE} FROM rev r WHERE r.id = ?`;
const EMPTY = new Uint8Array();

/** The stored value of row `id`. */
export function valueOf(be: Backend, id: number): Uint8Array {
  return be.get(VALUE, id)![0] as Uint8Array;
}

/**
 * The keys in `r` that existed at `rev`, in key order, at most `limit` (0 = no limit), with
 * their key indexes. `newest`: `rev` is the index's newest revision (or above it).
 */
export function readRange(
  be: Backend,
  index: TreeIndex,
  r: KeyRange,
  rev: number,
  newest: boolean,
  limit: number,
  keysOnly: boolean,
): { entries: KeyIndex[]; kvs: KeyValue[] } {
  const { entries, ids } = index.rangeAt(r, rev, limit);
  const kvs = new Array<KeyValue>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const key = r.kind === "single" ? r.key : binaryToBytes(entries[i].key);
    if (newest) {
      const cur = entries[i].current()!;
      kvs[i] = {
        key,
        createRevision: cur.createRevision,
        modRevision: cur.modRevision,
        version: cur.version,
        value: keysOnly ? EMPTY : valueOf(be, ids[i]),
        lease: cur.lease,
      };
    } else {
      kvs[i] = rowToKv(be.get(keysOnly ? ROW_NO_VALUE : ROW, ids[i])!, key);
    }
  }
  return { entries, kvs };
}

// etcd's rangeKeys: `curRev` is the newest revision the index reflects (inside a write txn
// with changes, the txn's own revision). Errors are checked in etcd's order.
export function rangeKeys(
  be: Backend,
  index: TreeIndex,
  r: KeyRange,
  curRev: number,
  compactRev: number,
  opts: RangeOptions,
): RangeResult {
  let rev = opts.rev ?? 0;
  if (rev > curRev) throw new MvccError("futureRev");
  if (rev <= 0) rev = curRev;
  if (rev < compactRev) throw new MvccError("compacted");
  if (opts.countOnly) return { kvs: [], count: index.countAt(r, rev), rev: curRev };
  const limit = opts.limit ?? 0;
  const { kvs } = readRange(be, index, r, rev, rev === curRev, limit, opts.keysOnly ?? false);
  let count = kvs.length;
  if (limit > 0 && count >= limit) count = index.countAt(r, rev);
  return { kvs, count, rev: curRev };
}

/** A read txn (etcd's TxnRead): every range reads `rev`, and its counts go to the metrics at end. */
export function readTxn(be: Backend, index: TreeIndex, rev: number, compactRev: number): ReadTxn {
  const tally = new TxnTally();
  return {
    tally,
    range: (key, rangeEnd, opts = {}) => {
      tally.ranges++;
      return rangeKeys(be, index, keyRange(key, rangeEnd), rev, compactRev, opts);
    },
    end: () => tally.end(),
  };
}
