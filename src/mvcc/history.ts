// The change history watchers catch up from: the `rev` table read by id, in revision order;
// the key index finds a single key's changes and each change's previous value.
import { MvccError } from "./errors.ts";
import { type Backend, KV_COLUMNS, limitClause, type Row, rowToKv } from "./backend.ts";
import { bytesToBinary, type KeyRange } from "./key_range.ts";
import type { TreeIndex } from "./tree_index.ts";
import { type Event, EventType, type KeyValue } from "./types.ts";

// SQL condition on `col` for a key range, with its parameters.
function keyCondition(col: string, r: KeyRange): [string, Uint8Array[]] {
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

const ROW = `SELECT ${KV_COLUMNS}, r.id FROM rev r WHERE r.id = ?`;

// Changes to keys in `r` with revisions in [fromRev, toRev], in the order they were applied,
// each carrying the key's previous value as prevKv when it had one (and compaction has not
// removed it). At most `limit` events (0 = no limit), so the last revision may be cut short.
export function eventsBetween(
  be: Backend,
  index: TreeIndex,
  r: KeyRange,
  fromRev: number,
  toRev: number,
  limit: number,
  compactRev: number,
): Event[] {
  if (fromRev < compactRev) throw new MvccError("compacted");
  if (r.kind === "empty" || fromRev > toRev) return [];
  let rows: Row[];
  if (r.kind === "single") {
    // One key's changes are listed by its index; a range's by scanning the id interval.
    const ids = index.get(bytesToBinary(r.key))?.between(fromRev, toRev) ?? [];
    rows = (limit > 0 ? ids.slice(0, limit) : ids).map((id) => be.get(ROW, id)!);
  } else {
    const [cond, params] = keyCondition("r.key", r);
    const sql = `SELECT ${KV_COLUMNS}, r.id FROM rev r WHERE r.id >= ? AND r.id < ? AND ` +
      `${cond} ORDER BY r.id${limitClause(limit)}`;
    rows = be.all(sql, idFloor(be, fromRev), idFloor(be, toRev + 1), ...params);
  }
  return rows.map((row): Event => {
    const kv = rowToKv(row);
    const ev: Event = kv.version === 0
      ? { type: EventType.DELETE, kv: tombstone(kv.key, kv.modRevision) }
      : { type: EventType.PUT, kv };
    // The change before this one (by id: a key may change twice within one revision).
    const prev = index.get(bytesToBinary(kv.key))?.before(row[6] as number);
    if (prev !== undefined) ev.prevKv = rowToKv(be.get(ROW, prev)!);
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
