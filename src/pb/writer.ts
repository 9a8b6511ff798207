// The one protobuf writer: the per-value pieces (sizes and writes of varints, bytes and
// strings at a position) that the specialised codecs (hot.generated.ts) and raft's raftpb codec
// use to size a message and then write it once into an exactly sized buffer, and the growable
// Writer the reflective codec (codec.ts) streams into, built on the same pieces.
// 64-bit values travel as two 32-bit halves so that numbers below 2^53 never touch BigInt.

import { WireType } from "./reader.ts";

const TWO32 = 4294967296;
const utf8 = new TextEncoder();

/** Bytes of a varint holding a value in [0, 2^32). */
export function sv32(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of an int32 or enum: negatives are sign-extended to ten. */
export function sI32(v: number): number {
  return v >= 0 ? sv32(v) : 10;
}

function sv64(lo: number, hi: number): number {
  if (hi === 0) return sv32(lo);
  return hi < 0x8
    ? 5
    : hi < 0x400
    ? 6
    : hi < 0x20000
    ? 7
    : hi < 0x1000000
    ? 8
    : hi < 0x80000000
    ? 9
    : 10;
}

/** Bytes of an int64/uint64 given as number (revisions, counts) or bigint (identifiers). */
export function sI64(v: number | bigint): number {
  if (typeof v === "number") {
    if (v >= 0 && v < 0x80000000) return sv32(v);
    if (v < 0) return 10;
    return sv64(v % TWO32, Math.floor(v / TWO32));
  }
  if (v >= 0n && v < 0x80000000n) return sv32(Number(v));
  splitBig(v);
  return sv64(splitLo, splitHi);
}

// Every response header carries the same cluster and member IDs: the last two wide bigints
// split into 32-bit halves are remembered, as BigInt arithmetic allocates.
let splitLo = 0;
let splitHi = 0;
const recent: [bigint, number, number][] = [[0n, 0, 0], [0n, 0, 0]];
let nextRecent = 0;

function splitBig(v: bigint): void {
  for (const r of recent) {
    if (r[0] === v) {
      splitLo = r[1];
      splitHi = r[2];
      return;
    }
  }
  const u = BigInt.asUintN(64, v);
  splitLo = Number(u & 0xffffffffn);
  splitHi = Number(u >> 32n);
  const r = recent[nextRecent];
  nextRecent ^= 1;
  r[0] = v;
  r[1] = splitLo;
  r[2] = splitHi;
}

/** UTF-8 length of a string as TextEncoder writes it (lone surrogates become U+FFFD). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        n += 2;
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

export function wv32(b: Uint8Array, p: number, v: number): number {
  while (v > 127) {
    b[p++] = (v & 127) | 128;
    v >>>= 7;
  }
  b[p++] = v;
  return p;
}

function wv64(b: Uint8Array, p: number, lo: number, hi: number): number {
  while (hi !== 0 || lo > 127) {
    b[p++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  b[p++] = lo;
  return p;
}

export function wI32(b: Uint8Array, p: number, v: number): number {
  return v >= 0 ? wv32(b, p, v) : wv64(b, p, v >>> 0, 0xffffffff);
}

export function wI64(b: Uint8Array, p: number, v: number | bigint): number {
  if (typeof v === "number") {
    if (v >= 0 && v < 0x80000000) return wv32(b, p, v);
    const hi = Math.floor(v / TWO32);
    return wv64(b, p, v - hi * TWO32, hi >>> 0);
  }
  if (v >= 0n && v < 0x80000000n) return wv32(b, p, Number(v));
  splitBig(v);
  return wv64(b, p, splitLo, splitHi);
}

export function wBytes(b: Uint8Array, p: number, v: Uint8Array): number {
  p = wv32(b, p, v.length);
  if (v.length < 16) { for (let i = 0; i < v.length; i++) b[p + i] = v[i]; }
  else b.set(v, p);
  return p + v.length;
}

/** Writes a string whose UTF-8 length `len` the sizing pass computed. */
export function wString(b: Uint8Array, p: number, v: string, len: number): number {
  p = wv32(b, p, len);
  if (len === v.length) { for (let i = 0; i < len; i++) b[p + i] = v.charCodeAt(i); }
  else utf8.encodeInto(v, b.subarray(p, p + len));
  return p + len;
}

/** A buffer that grows as values are written: for encoders that do not size messages first. */
export class Writer {
  buf = new Uint8Array(256);
  pos = 0;
  private view = new DataView(this.buf.buffer);

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  tag(no: number, wt: WireType): void {
    this.uint32((no << 3 | wt) >>> 0);
  }

  uint32(v: number): void {
    this.ensure(5);
    this.pos = wv32(this.buf, this.pos, v);
  }

  /** int32 and enums: negative values are sign-extended to ten bytes, as protobuf requires. */
  int32(v: number): void {
    this.ensure(10);
    this.pos = wI32(this.buf, this.pos, v);
  }

  /** int64/uint64 given as number or bigint; negative values in two's complement. */
  int64(v: number | bigint): void {
    this.ensure(10);
    this.pos = wI64(this.buf, this.pos, v);
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  fixed64(v: number | bigint): void {
    let lo: number;
    let hi: number;
    if (typeof v === "number" && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
      hi = Math.floor(v / TWO32);
      lo = v - hi * TWO32;
    } else {
      splitBig(BigInt(v));
      lo = splitLo;
      hi = splitHi;
    }
    this.ensure(8);
    this.view.setUint32(this.pos, lo, true);
    this.view.setUint32(this.pos + 4, hi, true);
    this.pos += 8;
  }

  float(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  double(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(v: Uint8Array): void {
    this.ensure(5 + v.length);
    this.pos = wBytes(this.buf, this.pos, v);
  }

  string(v: string): void {
    // Reserve the longest possible length prefix, encode in place, then close the gap: cheaper
    // than measuring the UTF-8 length first.
    const max = v.length * 3;
    const prefix = sv32(max);
    this.ensure(prefix + max);
    const start = this.pos + prefix;
    const { written } = utf8.encodeInto(v, this.buf.subarray(start, start + max));
    this.closeLength(this.pos, prefix, written);
  }

  /** Starts a length-delimited value whose size is not known yet; pass the result to end(). */
  begin(): number {
    this.ensure(5);
    this.pos += 5;
    return this.pos;
  }

  end(start: number): void {
    this.closeLength(start - 5, 5, this.pos - start);
  }

  // Writes the varint `len` at `at` and moves the `len` bytes that follow `at + reserved`
  // down so they sit right after it.
  private closeLength(at: number, reserved: number, len: number): void {
    const n = sv32(len);
    if (n !== reserved) this.buf.copyWithin(at + n, at + reserved, at + reserved + len);
    wv32(this.buf, at, len);
    this.pos = at + n + len;
  }
}

/** The parts' bytes one after another in one array (the one part itself when there is one). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
