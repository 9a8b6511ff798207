// The WAL's record framing and payload encodings (our own format; see wal.ts for the layout
// of a segment). Every record starts at an 8-byte aligned offset:
//
//   0   u32 LE  L = body length (type byte + payload), 1 <= L <= MAX_BODY
//   4   u32 LE  CRC-32C over the 4 length bytes followed by the body
//   8   body    u8 type, then L-1 payload bytes
//   8+L zero padding up to the next multiple of 8
//
// Alignment keeps the 8-byte header inside one disk sector, so a torn write leaves a header
// either whole or missing, never half of one.

import { crc32c } from "../checksum/mod.ts";
import type { Entry, HardState } from "../raft/mod.ts";

export enum RecordType {
  Metadata = 1,
  Entry = 2,
  HardState = 3,
  Snapshot = 4,
}

export const HEADER_SIZE = 8;
/** Far above any entry raft accepts; a larger length can only come from damage. */
export const MAX_BODY = 512 * 1024 * 1024;

export function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Size on disk of a record whose payload is `payloadLength` bytes. */
export function recordSize(payloadLength: number): number {
  return HEADER_SIZE + align8(1 + payloadLength);
}

/** Writes one framed record at `off` of `buf` (which must have room, zero-filled). */
export function putRecord(buf: Uint8Array, off: number, type: RecordType, payload: Uint8Array) {
  buf.set(payload, off + HEADER_SIZE + 1);
  return sealRecord(buf, off, type, payload.length);
}

/** Frames a payload already placed at `off + 9`: writes length, type and checksum. */
function sealRecord(buf: Uint8Array, off: number, type: RecordType, payloadLength: number) {
  const bodyLen = 1 + payloadLength;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(off, bodyLen, true);
  buf[off + HEADER_SIZE] = type;
  const lenCrc = crc32c(buf.subarray(off, off + 4));
  const body = buf.subarray(off + HEADER_SIZE, off + HEADER_SIZE + bodyLen);
  view.setUint32(off + 4, crc32c(body, lenCrc), true);
  return off + recordSize(payloadLength);
}

export type ParsedRecord =
  | { ok: true; type: RecordType; payload: Uint8Array; next: number }
  | { ok: false; reason: string; incomplete: boolean };

/** Parses the record at `off`; never throws, reports why a record is unusable instead. */
export function parseRecord(buf: Uint8Array, off: number): ParsedRecord {
  if (buf.length - off < HEADER_SIZE) {
    return { ok: false, reason: "short record header", incomplete: true };
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const bodyLen = view.getUint32(off, true);
  if (bodyLen === 0) return { ok: false, reason: "zero record length", incomplete: false };
  if (bodyLen > MAX_BODY) {
    return { ok: false, reason: `record length ${bodyLen} too large`, incomplete: false };
  }
  const next = off + HEADER_SIZE + align8(bodyLen);
  if (next > buf.length) return { ok: false, reason: "unexpected EOF", incomplete: true };
  const body = buf.subarray(off + HEADER_SIZE, off + HEADER_SIZE + bodyLen);
  const want = view.getUint32(off + 4, true);
  if (crc32c(body, crc32c(buf.subarray(off, off + 4))) !== want) {
    return { ok: false, reason: "crc mismatch", incomplete: false };
  }
  for (let i = off + HEADER_SIZE + bodyLen; i < next; i++) {
    if (buf[i] !== 0) return { ok: false, reason: "non-zero padding", incomplete: false };
  }
  const type = body[0];
  if (!(type in RecordType)) {
    return { ok: false, reason: `unknown record type ${type}`, incomplete: false };
  }
  return { ok: true, type, payload: body.subarray(1), next };
}

// Payload codecs. Indexes and terms are stored as u64 and must be safe integers.

function putU64(view: DataView, off: number, n: number | bigint) {
  view.setBigUint64(off, BigInt(n), true);
}

function getU64(view: DataView, off: number): number {
  const n = view.getBigUint64(off, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`u64 ${n} exceeds 2^53`);
  return Number(n);
}

export function entryRecordSize(e: Entry): number {
  return recordSize(17 + e.data.length);
}

/** Writes an entry record straight into `buf`, without an intermediate payload copy. */
export function putEntryRecord(buf: Uint8Array, off: number, e: Entry): number {
  const p = off + HEADER_SIZE + 1;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  putU64(view, p, e.term);
  putU64(view, p + 8, e.index);
  buf[p + 16] = e.type;
  buf.set(e.data, p + 17);
  return sealRecord(buf, off, RecordType.Entry, 17 + e.data.length);
}

export function decodeEntryPayload(p: Uint8Array): Entry {
  if (p.length < 17) throw new RangeError(`entry payload of ${p.length} bytes`);
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return {
    term: getU64(view, 0),
    index: getU64(view, 8),
    type: p[16],
    data: p.slice(17),
  };
}

export function encodeHardStatePayload(hs: HardState): Uint8Array {
  const out = new Uint8Array(24);
  const view = new DataView(out.buffer);
  putU64(view, 0, hs.term);
  view.setBigUint64(8, BigInt.asUintN(64, hs.vote), true);
  putU64(view, 16, hs.commit);
  return out;
}

export function decodeHardStatePayload(p: Uint8Array): HardState {
  if (p.length !== 24) throw new RangeError(`hardState payload of ${p.length} bytes`);
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return { term: getU64(view, 0), vote: view.getBigUint64(8, true), commit: getU64(view, 16) };
}

export interface SnapshotMarker {
  index: number;
  term: number;
}

export function encodeSnapshotPayload(s: SnapshotMarker): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  putU64(view, 0, s.index);
  putU64(view, 8, s.term);
  return out;
}

export function decodeSnapshotPayload(p: Uint8Array): SnapshotMarker {
  if (p.length !== 16) throw new RangeError(`snapshot payload of ${p.length} bytes`);
  const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return { index: getU64(view, 0), term: getU64(view, 8) };
}
