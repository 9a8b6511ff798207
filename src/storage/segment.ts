// WAL segment files: naming, listing and scanning one file's records, including the rule that
// tells a torn final write (repairable) from corruption (fatal).

import { hex16, join, listDir, parseHex16 } from "./fsutil.ts";
import { align8, HEADER_SIZE, parseRecord, type RecordType } from "./record.ts";

export class WalError extends Error {
  override name = "WalError";
}

export interface SegmentName {
  name: string;
  /** Position in the chain of segments: 0, 1, 2, ... without gaps. */
  seq: number;
  /** Lowest index an entry in this segment can have (last index + 1 when it was cut). */
  index: number;
}

export function segmentName(seq: number, index: number): string {
  return `${hex16(seq)}-${hex16(index)}.wal`;
}

export function parseSegmentName(name: string): SegmentName | undefined {
  const m = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/.exec(name);
  if (!m) return undefined;
  const seq = parseHex16(m[1]);
  const index = parseHex16(m[2]);
  return seq === undefined || index === undefined ? undefined : { name, seq, index };
}

/** The WAL's segments in order; throws if their sequence numbers have a gap. */
export function listSegments(dir: string): SegmentName[] {
  const segs = listDir(dir).filter((n) => n.endsWith(".wal")).map((n) => {
    const s = parseSegmentName(n);
    if (!s) throw new WalError(`wal: invalid segment file name ${join(dir, n)}`);
    return s;
  }).sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < segs.length; i++) {
    if (segs[i].seq !== segs[i - 1].seq + 1) {
      throw new WalError(
        `wal: segment sequence numbers do not increase continuously in ${dir} ` +
          `(${segs[i - 1].name} then ${segs[i].name})`,
      );
    }
  }
  return segs;
}

export interface ScannedRecord {
  type: RecordType;
  payload: Uint8Array;
  offset: number;
}

export interface Tear {
  /** Offset of the first unusable byte; the records before it are valid. */
  offset: number;
  /** End of the damaged bytes: after it the file holds only zeros, if anything. */
  end: number;
  reason: string;
}

/**
 * Reads every record of a segment. Segments are preallocated, so the records are normally
 * followed by zeros up to the end of the file: the first offset from which only zeros
 * follow is the end of the segment's data (`end`), not damage.
 *
 * A bad record with data after it is a torn tail only in the last segment: the end of a write
 * that was never fsync'd. When no valid record follows it, the crash left a prefix of the
 * write. When one does, the disk wrote the write's sectors back out of order: etcd's rule
 * (its decoder's isTornEntry) tells that from damage — the bad record has a sector-sized piece
 * that is all zeros, never written (a zero length is one) — and the records after it, never
 * synced either, go with it. A bad record with no such piece followed by a valid one is damage
 * to data that was already durable, so the log refuses to open.
 */
export function scanSegment(
  buf: Uint8Array,
  path: string,
  isLast: boolean,
): { records: ScannedRecord[]; end: number; tear?: Tear } {
  const records: ScannedRecord[] = [];
  const dataEnd = endOfData(buf);
  let off = 0;
  while (off < dataEnd) {
    const r = parseRecord(buf, off);
    if (r.ok) {
      records.push({ type: r.type, payload: r.payload, offset: off });
      off = r.next;
      continue;
    }
    const later = isLast ? findValidRecord(buf, off + HEADER_SIZE, dataEnd) : undefined;
    if (!isLast || (later !== undefined && !unwrittenSector(buf, off, later, r.reason))) {
      const followed = later === undefined ? "" : ` (a valid record follows at offset ${later})`;
      throw new WalError(
        `wal: ${r.reason} in ${path} at offset ${off}${followed}: ` +
          `the log is corrupt; refusing to start`,
      );
    }
    return { records, end: off, tear: { offset: off, end: dataEnd, reason: r.reason } };
  }
  return { records, end: off };
}

/** The disk's sector: a power cut writes each one whole or not at all. */
const SECTOR = 512;

/**
 * Whether the bad record at `off`, followed by a valid one at `later`, was torn rather than
 * damaged: its length was never written (zero), or it fits before `later` and the part of it in
 * some sector is all zeros (that sector never reached the disk; a checksum that fails is then
 * the only other sign). Padding is left out: it is zeros in every record.
 */
function unwrittenSector(buf: Uint8Array, off: number, later: number, reason: string): boolean {
  const length = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(off, true);
  if (length === 0) return true;
  if (reason !== "crc mismatch" || off + HEADER_SIZE + align8(length) > later) return false;
  const end = off + HEADER_SIZE + length;
  for (let lo = off; lo < end;) {
    const hi = Math.min(end, (Math.floor(lo / SECTOR) + 1) * SECTOR);
    if (buf.subarray(lo, hi).every((b) => b === 0)) return true;
    lo = hi;
  }
  return false;
}

/** The first 8-byte aligned offset in [from, to) where a well-formed record starts. */
function findValidRecord(buf: Uint8Array, from: number, to: number): number | undefined {
  for (let off = from; off < to && off + HEADER_SIZE <= buf.length; off += 8) {
    if (parseRecord(buf, off).ok) return off;
  }
  return undefined;
}

/** One past the last non-zero byte of `buf` (0 if it is all zeros). Reads 32-bit words where
 * it can: a preallocated segment's tail is tens of megabytes of zeros. */
export function endOfData(buf: Uint8Array): number {
  let i = buf.length;
  while (i > 0 && (buf.byteOffset + i) % 4 !== 0) {
    if (buf[i - 1] !== 0) return i;
    i--;
  }
  const start = Math.ceil(buf.byteOffset / 4) * 4 - buf.byteOffset;
  if (i > start) {
    const words = new Uint32Array(buf.buffer, buf.byteOffset + start, (i - start) / 4);
    let w = words.length;
    while (w > 0 && words[w - 1] === 0) w--;
    i = start + w * 4;
  }
  while (i > 0 && buf[i - 1] === 0) i--;
  return i;
}
