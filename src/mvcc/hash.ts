// Checksums over the stored history, used to compare members: etcd's HashKV byte for byte
// (mvcc/kvstore.go HashByRev), and a checksum of the whole store behind Hash; each timed for
// etcd's hash duration metrics.
import { crc32 } from "node:zlib";
import { crc32c } from "../checksum/mod.ts";
import { mvccMetrics, secondsSince } from "../metrics/mod.ts";
import { type Backend, KV_COLUMNS, rowToKv } from "./backend.ts";
import { idFloor } from "./history.ts";
import { revisionKey, storedKeyValue } from "./revision_key.ts";
import type { TreeIndex } from "./tree_index.ts";
import type { KeyValue } from "./types.ts";

const enc = new TextEncoder();
const KEY_BUCKET = enc.encode("key");
// Every change below row id ?, in (main, sub) order.
const HASH_ROWS = `SELECT ${KV_COLUMNS}, r.sub, r.id FROM rev r WHERE r.id < ? ORDER BY r.id`;

/**
 * etcd's HashKV at `rev` (a revision above `compactRev`, or equal to it when nothing was
 * written since): CRC-32C of the bucket name "key", then of every change up to `rev` as its
 * revision key and stored KeyValue. Of the changes at or below the compaction point, etcd
 * hashes those its key index keeps at `rev` (each existing key's value then); when no key
 * exists at `rev` that set is empty and it hashes every change compaction left instead (the
 * values of the keys that existed at `compactRev`; etcd's answer reaches that value at its first
 * backend commit after the compaction). Neither depends on how far physical removal has got
 * here, so members agree.
 */
export function hashByRev(
  be: Backend,
  index: TreeIndex,
  rev: number,
  compactRev: number,
): number {
  const start = performance.now();
  const atRev = index.keep(rev);
  const keep = atRev.found ? atRev.rows : index.keep(compactRev).rows;
  let crc = crc32c(KEY_BUCKET);
  for (const row of be.stmt(HASH_ROWS).iterate(idFloor(be, rev + 1))) {
    const r = row as unknown as unknown[];
    if ((r[2] as number) <= compactRev && !keep.has(r[7] as number)) continue;
    const kv = rowToKv(r);
    crc = crc32c(revisionKey(kv.modRevision, r[6] as number, kv.version === 0), crc);
    crc = crc32c(storedKeyValue(kv), crc);
  }
  mvccMetrics.hashRevSeconds.observe(secondsSince(start));
  return crc;
}

function feed(crc: number, kv: KeyValue): number {
  const head = new DataView(new ArrayBuffer(36));
  head.setFloat64(0, kv.modRevision);
  head.setFloat64(8, kv.createRevision);
  head.setFloat64(16, kv.version);
  head.setBigInt64(24, kv.lease);
  head.setUint32(32, kv.key.length);
  crc = crc32(new Uint8Array(head.buffer), crc);
  crc = crc32(kv.key, crc);
  return crc32(kv.value, crc);
}

/**
 * Every stored row in revision order, for Hash: equal on members whose files hold the same
 * history (physical compaction progress included). It cannot equal etcd's Hash, a CRC-32C over
 * every bucket of etcd's bbolt backend (the key space as physically stored, members, leases,
 * auth, alarms, meta less the consistent index) in etcd's encodings, which this SQLite backend
 * does not reproduce; so it only compares etcd-ts members with each other.
 */
export function hashAll(be: Backend, compactRev: number): number {
  const start = performance.now();
  let crc = crc32(enc.encode(`compact:${compactRev}`));
  for (const row of be.stmt(`SELECT ${KV_COLUMNS} FROM rev r ORDER BY r.id`).iterate()) {
    crc = feed(crc, rowToKv(row as unknown as unknown[]));
  }
  mvccMetrics.hashSeconds.observe(secondsSince(start));
  return crc >>> 0;
}
