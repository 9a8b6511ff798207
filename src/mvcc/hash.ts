// Checksums over the stored history, used to compare members (etcd's Hash and HashKV).
import { crc32 } from "node:zlib";
import { type Backend, KV_COLUMNS, rowToKv } from "./backend.ts";
import type { KeyValue } from "./types.ts";

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

// Every stored row in revision order: equal on members whose files hold the same history
// (physical compaction progress included, as etcd's hash of the whole backend).
export function hashAll(be: Backend, compactRev: number): number {
  let crc = crc32(new TextEncoder().encode(`compact:${compactRev}`));
  for (const row of be.stmt(`SELECT ${KV_COLUMNS} FROM rev r ORDER BY r.id`).iterate()) {
    crc = feed(crc, rowToKv(row as unknown as unknown[]));
  }
  return crc >>> 0;
}

// The history up to `rev` as the logical compaction at `compactRev` defines it: rows at or below
// the compaction point count only if compaction keeps them (the latest change of a key, when
// that is not a deletion). Independent of how far physical removal has got, so members agree.
export function hashUpTo(be: Backend, rev: number, compactRev: number): number {
  const sql = `SELECT ${KV_COLUMNS} FROM rev r WHERE r.main <= ? AND (r.main > ? OR ` +
    `(r.version > 0 AND NOT EXISTS (SELECT 1 FROM rev r2 WHERE r2.key = r.key ` +
    `AND r2.main >= r.main AND r2.main <= ? AND r2.id > r.id))) ORDER BY r.id`;
  let crc = 0;
  for (const row of be.stmt(sql).iterate(rev, compactRev, compactRev)) {
    crc = feed(crc, rowToKv(row as unknown as unknown[]));
  }
  return crc >>> 0;
}
