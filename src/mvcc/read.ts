// Range reads: at the current revision from the `live` index, below it from history.
import { MvccError } from "./errors.ts";
import {
  type Backend,
  KV_COLUMNS,
  KV_COLUMNS_NO_KEY,
  KV_COLUMNS_NO_VALUE,
  limitClause,
  rowToKv,
} from "./backend.ts";
import { countAt, keyCondition, rangeAt } from "./history.ts";
import type { KeyRange } from "./key_range.ts";
import type { KeyValue, RangeOptions, RangeResult } from "./types.ts";

type Kind = Exclude<KeyRange["kind"], "empty">;
const KINDS: Kind[] = ["single", "from", "between"];
const probe: Record<Kind, KeyRange> = {
  single: { kind: "single", key: new Uint8Array() },
  from: { kind: "from", key: new Uint8Array() },
  between: { kind: "between", key: new Uint8Array(), end: new Uint8Array() },
};

// The SQL of the hot reads, built once (a fresh string per call would cost a hash per call
// in the statement cache).
const liveSql = (cols: string) =>
  Object.fromEntries(KINDS.map((k) => [
    k,
    `SELECT ${cols} FROM live l JOIN rev r ON r.id = l.id WHERE ${
      keyCondition("l.key", probe[k])[0]
    } ORDER BY l.key`,
  ])) as Record<Kind, string>;
const LIVE = liveSql(KV_COLUMNS);
const LIVE_KEYS_ONLY = liveSql(KV_COLUMNS_NO_VALUE);
const GET_ONE = `SELECT ${KV_COLUMNS_NO_KEY} FROM live l JOIN rev r ON r.id = l.id WHERE l.key = ?`;
const COUNT = Object.fromEntries(
  KINDS.map((k) => [k, `SELECT count(*) FROM live WHERE ${keyCondition("key", probe[k])[0]}`]),
) as Record<Kind, string>;

function bounds(r: Exclude<KeyRange, { kind: "empty" }>): Uint8Array[] {
  return r.kind === "between" ? [r.key, r.end] : [r.key];
}

export function rangeLive(
  be: Backend,
  r: KeyRange,
  limit: number,
  keysOnly: boolean,
): KeyValue[] {
  if (r.kind === "empty") return [];
  if (r.kind === "single" && !keysOnly) {
    const row = be.get(GET_ONE, r.key);
    return row ? [rowToKv(row, r.key)] : [];
  }
  const sql = (keysOnly ? LIVE_KEYS_ONLY : LIVE)[r.kind] + limitClause(limit);
  return be.all(sql, ...bounds(r)).map((row) => rowToKv(row));
}

function countLive(be: Backend, r: KeyRange): number {
  if (r.kind === "empty") return 0;
  return be.get(COUNT[r.kind], ...bounds(r))![0] as number;
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
  if (rev > curRev) throw new MvccError("futureRev");
  if (rev <= 0) rev = curRev;
  if (rev < compactRev) throw new MvccError("compacted");
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
