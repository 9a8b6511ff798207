// etcd's Range apply: fetch, filter by revisions, sort, then cut to the limit.
import {
  compareBytes,
  type KeyValue,
  type RangeOptions,
  type RangeResult,
} from "../../mvcc/mod.ts";
import { type RangeRequest, type RangeResponse, SortOrder, SortTarget } from "../kv_types.ts";

export type Reader = (
  key: Uint8Array,
  rangeEnd: Uint8Array | undefined,
  opts: RangeOptions,
) => RangeResult;

const EMPTY = new Uint8Array();

export function doRange(read: Reader, req: RangeRequest): RangeResponse {
  const order = req.sortOrder ?? SortOrder.NONE;
  const target = req.sortTarget ?? SortTarget.KEY;
  const minMod = req.minModRevision ?? 0;
  const maxMod = req.maxModRevision ?? 0;
  const minCreate = req.minCreateRevision ?? 0;
  const maxCreate = req.maxCreateRevision ?? 0;
  const reqLimit = req.limit ?? 0;
  // Sorting or filtering needs every key; otherwise one extra tells whether there are more.
  // The decision looks at the requested order only: with a non-key target and order NONE,
  // etcd sorts just the first limit+1 keys (observable, so kept).
  let limit = reqLimit;
  if (order !== SortOrder.NONE || minMod || maxMod || minCreate || maxCreate) limit = 0;
  if (limit > 0) limit++;
  const keysOnly = req.keysOnly ?? false;
  const rr = read(req.key, req.rangeEnd, {
    rev: req.revision ?? 0,
    limit,
    countOnly: req.countOnly ?? false,
    keysOnly: keysOnly && target !== SortTarget.VALUE,
  });
  let kvs = rr.kvs;
  if (maxMod) kvs = kvs.filter((kv) => kv.modRevision <= maxMod);
  if (minMod) kvs = kvs.filter((kv) => kv.modRevision >= minMod);
  if (maxCreate) kvs = kvs.filter((kv) => kv.createRevision <= maxCreate);
  if (minCreate) kvs = kvs.filter((kv) => kv.createRevision >= minCreate);
  const effective = target !== SortTarget.KEY && order === SortOrder.NONE
    ? SortOrder.ASCEND
    : order;
  // Keys arrive in ascending order, which already is the KEY/ASCEND result.
  if (effective === SortOrder.DESCEND && target === SortTarget.KEY) kvs.reverse();
  else if (effective !== SortOrder.NONE && target !== SortTarget.KEY) {
    const cmp = comparator(target);
    // Stable sort: ties stay in key order, in both directions.
    kvs.sort(effective === SortOrder.DESCEND ? (a, b) => cmp(b, a) : cmp);
  }
  let more = false;
  if (reqLimit > 0 && kvs.length > reqLimit) {
    kvs = kvs.slice(0, reqLimit);
    more = true;
  }
  if (keysOnly) { for (const kv of kvs) kv.value = EMPTY; }
  return { header: { revision: rr.rev }, kvs, more, count: rr.count };
}

function comparator(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case SortTarget.VERSION:
      return (a, b) => a.version - b.version;
    case SortTarget.CREATE:
      return (a, b) => a.createRevision - b.createRevision;
    case SortTarget.MOD:
      return (a, b) => a.modRevision - b.modRevision;
    case SortTarget.VALUE:
      return (a, b) => compareBytes(a.value, b.value);
    default:
      return (a, b) => compareBytes(a.key, b.key);
  }
}
