// Reads below the current revision, and the change history watchers catch up from.
// They go to the `rev` table; current-revision reads use the `live` index instead.
import { MvccError } from "./errors.ts";
import { type Backend, KV_COLUMNS, KV_COLUMNS_NO_VALUE, limitClause, rowToKv } from "./backend.ts";
import type { KeyRange } from "./key_range.ts";
import { type Event, EventType, type KeyValue } from "./types.ts";

// SQL condition on `col` for a key range, with its parameters.
export function keyCondition(col: string, r: KeyRange): [string, Uint8Array[]] {
  switch (r.kind) {
    case "single":
      return [`${col} = ?`, [r.key]];
    case "from":
      return [`${col} >= ?`, [r.key]];
    case "between":
      return [`${col} >= ? AND ${col} < ?`, [r.key, r.end]];
    case "empty":
      return ["0", []];
  }
}

// For each key in range, its latest change at or below `rev`; keys whose latest change is a
// tombstone do not exist at `rev`.
function latestAt(r: KeyRange): [string, Uint8Array[]] {
  const [cond, params] = keyCondition("key", r);
  return [`SELECT max(id) AS id FROM rev WHERE ${cond} AND main <= ? GROUP BY key`, params];
}

export function rangeAt(
  be: Backend,
  r: KeyRange,
  rev: number,
  limit: number,
  keysOnly: boolean,
): KeyValue[] {
  const [sub, params] = latestAt(r);
  const cols = keysOnly ? KV_COLUMNS_NO_VALUE : KV_COLUMNS;
  const sql = `SELECT ${cols} FROM (${sub}) m JOIN rev r ON r.id = m.id ` +
    `WHERE r.version > 0 ORDER BY r.key${limitClause(limit)}`;
  return be.all(sql, ...params, rev).map((row) => rowToKv(row));
}

export function countAt(be: Backend, r: KeyRange, rev: number): number {
  const [sub, params] = latestAt(r);
  const sql = `SELECT count(*) FROM (${sub}) m JOIN rev r ON r.id = m.id WHERE r.version > 0`;
  return be.get(sql, ...params, rev)![0] as number;
}

// An id bound for the rows whose main revision is >= `main`: every row with an id at or above
// it has such a revision and every row below it has a smaller one (maxId + 1 if none). Row ids
// grow with revisions, so a binary search over ids replaces an index on `main` that every
// write would have to maintain. Compaction leaves gaps in the ids, so the bound may be an id
// no row has; the search narrows to `mid`, never to the row found above it (which may already
// be `hi`, and the search would then stop moving).
export function idFloor(be: Backend, main: number): number {
  const probe = "SELECT id, main FROM rev WHERE id >= ? ORDER BY id LIMIT 1";
  let lo = 1;
  let hi = be.maxId() + 1; // answer in [lo, hi]
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = be.get(probe, mid);
    if (!row || (row[1] as number) >= main) {
      hi = mid;
    } else {
      lo = (row[0] as number) + 1;
    }
  }
  return lo;
}

// Changes to keys in `r` with revisions in [fromRev, toRev], in the order they were applied,
// each carrying the key's previous value as prevKv when it had one (and compaction has not
// removed it). At most `limit` events (0 = no limit), so the last revision may be cut short.
export function eventsBetween(
  be: Backend,
  r: KeyRange,
  fromRev: number,
  toRev: number,
  limit: number,
  compactRev: number,
): Event[] {
  if (fromRev < compactRev) throw new MvccError("compacted");
  if (r.kind === "empty" || fromRev > toRev) return [];
  // A single key is best found through rev_key; a range by scanning the id interval (the unary
  // `+` keeps SQLite from choosing the key index for it).
  const [cond, params] = keyCondition(r.kind === "single" ? "r.key" : "+r.key", r);
  const sql = `SELECT ${KV_COLUMNS}, r.id FROM rev r WHERE r.id >= ? AND r.id < ? AND ${cond} ` +
    `ORDER BY r.id${limitClause(limit)}`;
  const rows = be.all(sql, idFloor(be, fromRev), idFloor(be, toRev + 1), ...params);
  // The change before this one (by id: a key may change twice within one revision).
  const prevSql = `SELECT ${KV_COLUMNS} FROM rev r WHERE r.key = ? AND r.main <= ? ` +
    `AND r.id < ? ORDER BY r.main DESC, r.id DESC LIMIT 1`;
  return rows.map((row): Event => {
    const kv = rowToKv(row);
    const ev: Event = kv.version === 0
      ? { type: EventType.DELETE, kv: tombstone(kv.key, kv.modRevision) }
      : { type: EventType.PUT, kv };
    const prev = be.get(prevSql, kv.key, kv.modRevision, row[6] as number);
    if (prev && (prev[3] as number) > 0) ev.prevKv = rowToKv(prev);
    return ev;
  });
}

export function tombstone(key: Uint8Array, rev: number): KeyValue {
  return {
    key,
    createRevision: 0,
    modRevision: rev,
    version: 0,
    value: new Uint8Array(),
    lease: 0n,
  };
}
