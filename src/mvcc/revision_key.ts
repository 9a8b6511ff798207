// How etcd's backend files a change in its `key` bucket (mvcc/revision.go, kvstore.go): the key
// is the revision, the value the marshalled mvccpb.KeyValue. HashKV hashes exactly these bytes;
// snapshots write them and restores read them.
import { messages } from "../pb/mod.ts";
import type { KeyValue } from "./types.ts";

const REV_SEPARATOR = 0x5f; // '_'
const TOMBSTONE_MARK = 0x74; // 't'

/**
 * Main and sub revision as 8-byte big-endian integers around a '_', and a trailing 't' on
 * deletions.
 */
export function revisionKey(main: number, sub: number, tombstone: boolean): Uint8Array {
  const out = new Uint8Array(tombstone ? 18 : 17);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(main));
  out[8] = REV_SEPARATOR;
  view.setBigUint64(9, BigInt(sub));
  if (tombstone) out[17] = TOMBSTONE_MARK;
  return out;
}

/** A revision key read back; throws on anything else (etcd panics on such a key). */
export function parseRevisionKey(
  key: Uint8Array,
): { main: number; sub: number; tombstone: boolean } {
  const marked = key.length === 18 && key[17] === TOMBSTONE_MARK;
  if ((key.length !== 17 && !marked) || key[8] !== REV_SEPARATOR) {
    throw new RangeError(`not a revision key: ${key.length} bytes`);
  }
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const main = view.getBigUint64(0);
  const sub = view.getBigUint64(9);
  if (main > BigInt(Number.MAX_SAFE_INTEGER) || sub > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`revision ${main}_${sub} is out of range`);
  }
  return { main: Number(main), sub: Number(sub), tombstone: marked };
}

/**
 * The marshalled mvccpb.KeyValue etcd stores for a change: the whole kv for a put, only the
 * key for a deletion (version 0 marks one here).
 */
export function storedKeyValue(kv: KeyValue): Uint8Array {
  return messages["mvccpb.KeyValue"].encode(kv.version === 0 ? { key: kv.key } : kv);
}
