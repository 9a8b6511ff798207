// Range reads: at the current revision from the `live` index, below it from history.
import { Errors } from "../server/errors.ts";
import { type Backend, KV_COLUMNS, KV_COLUMNS_NO_VALUE, rowToKv } from "./backend.ts";
import { countAt, keyCondition, rangeAt } from "./history.ts";
import type { KeyRange } from "./key_range.ts";
import type { KeyValue, RangeOptions, RangeResult } from "./types.ts";

export function rangeLive(
  be: Backend,
  r: KeyRange,
  limit: number,
  keysOnly: boolean,
): KeyValue[] {
  if (r.kind === "empty") return [];
  const [cond, params] = keyCondition("l.key", r);
  const cols = keysOnly ? KV_COLUMNS_NO_VALUE : KV_COLUMNS;
  const sql = `SELECT ${cols} FROM live l JOIN rev r ON r.id = l.id WHERE ${cond} ` +
    `ORDER BY l.key LIMIT ?`;
  return be.all(sql, ...params, limit > 0 ? limit : -1).map(rowToKv);
}

function countLive(be: Backend, r: KeyRange): number {
  if (r.kind === "empty") return 0;
  const [cond, params] = keyCondition("key", r);
  return be.get(`SELECT count(*) FROM live WHERE ${cond}`, ...params)![0] as number;
}

// etcd's rangeKeys: `curRev` is the revision the live index reflects (inside a write txn with
// changes, the txn's own revision). Errors are checked in etcd's order.
export function rangeKeys(
  be: Backend,
  r: KeyRange,
  curRev: number,
  compactRev: number,
  opts: RangeOptions,
): RangeResult {
  let rev = opts.rev ?? 0;
  if (rev > curRev) throw Errors.futureRev();
  if (rev <= 0) rev = curRev;
  if (rev < compactRev) throw Errors.compacted();
  const historic = rev < curRev;
  if (opts.countOnly) {
    const count = historic ? countAt(be, r, rev) : countLive(be, r);
    return { kvs: [], count, rev: curRev };
  }
  const limit = opts.limit ?? 0;
  const keysOnly = opts.keysOnly ?? false;
  const kvs = historic ? rangeAt(be, r, rev, limit, keysOnly) : rangeLive(be, r, limit, keysOnly);
  let count = kvs.length;
  if (limit > 0 && count >= limit) count = historic ? countAt(be, r, rev) : countLive(be, r);
  return { kvs, count, rev: curRev };
}
