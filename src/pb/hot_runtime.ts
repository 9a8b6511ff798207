// Wire helpers for the specialised codecs in hot.generated.ts. Encoders first size a message,
// then write it once into an exactly sized buffer; these are the per-value pieces of both
// passes. Decoding reads through one reusable Cursor. Every rule (sign extension, which bits a
// 32-bit read drops, where EOF is detected) mirrors wire.ts, so the two codecs agree byte for
// byte and fail on the same inputs.

import { ProtoDecodeError, WireType } from "./wire.ts";

const TWO32 = 4294967296;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** A fresh empty bytes value (a view: allocating backing stores is what decoding avoids). */
export function emptyBytes(): Uint8Array {
  return EMPTY.subarray(0);
}

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

/** A read position over one input buffer, reused across decodes (decoding is synchronous). */
export class Cursor {
  buf: Uint8Array = EMPTY;
  pos = 0;
  // The private copy of the input that decoded bytes fields are views into, made on first use.
  private copy: Uint8Array | undefined;
  private lo = 0;
  private hi = 0;

  reset(bytes: Uint8Array): this {
    // A plain view, so that slice() copies even when given a node Buffer (whose slice shares).
    this.buf = bytes.constructor === Uint8Array
      ? bytes
      : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.copy = undefined;
    return this;
  }

  private truncated(): never {
    throw new ProtoDecodeError("unexpected EOF");
  }

  /** A varint's low 32 bits (tags, lengths, int32, enums, bools), as wire.ts reads them. */
  u32(): number {
    const buf = this.buf;
    if (this.pos < buf.length && buf[this.pos] < 128) return buf[this.pos++];
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= buf.length) this.truncated();
      const b = buf[this.pos++];
      v |= (b & 127) << shift;
      if (b < 128) return v >>> 0;
    }
    for (let i = 5; i < 10; i++) {
      if (this.pos >= buf.length) this.truncated();
      if (buf[this.pos++] < 128) return v >>> 0;
    }
    throw new ProtoDecodeError("integer overflow in varint");
  }

  i32(): number {
    return this.u32() | 0;
  }

  bool(): boolean {
    return this.u32() !== 0;
  }

  // Reads a full 64-bit varint into lo/hi.
  private v64(): void {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) this.truncated();
      const b = buf[this.pos++];
      if (i < 4) lo |= (b & 127) << (7 * i);
      else if (i === 4) {
        lo |= (b & 15) << 28;
        hi |= (b & 127) >> 4;
      } else hi |= (b & 127) << (7 * i - 32);
      if (b < 128) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new ProtoDecodeError("integer overflow in varint");
  }

  /** int64 as a number (exact below 2^53, which non-identifier fields stay under). */
  i64(): number {
    const buf = this.buf;
    if (this.pos < buf.length && buf[this.pos] < 128) return buf[this.pos++];
    this.v64();
    const { lo, hi } = this;
    if (hi & 0x80000000) return -((~hi >>> 0) * TWO32 + (~lo >>> 0) + 1);
    return hi * TWO32 + lo;
  }

  u64(): number {
    const buf = this.buf;
    if (this.pos < buf.length && buf[this.pos] < 128) return buf[this.pos++];
    this.v64();
    return this.hi * TWO32 + this.lo;
  }

  /** int64 identifier as bigint. */
  i64n(): bigint {
    return BigInt.asIntN(64, this.u64n());
  }

  /** uint64 identifier as bigint. */
  u64n(): bigint {
    const buf = this.buf;
    if (this.pos < buf.length && buf[this.pos] < 128) return BigInt(buf[this.pos++]);
    this.v64();
    return this.hi === 0 ? BigInt(this.lo) : (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** The end offset of a length-delimited value starting here. */
  delimited(): number {
    const end = this.u32() + this.pos;
    if (end > this.buf.length) this.truncated();
    return end;
  }

  bytes(): Uint8Array {
    const end = this.delimited();
    const start = this.pos;
    this.pos = end;
    // Decoded values outlive the frame buffer (the store keeps keys and values), so they must
    // not share it; one copy of the whole message serves every field, as allocating an
    // ArrayBuffer per field costs more than the rest of decoding.
    if (this.copy === undefined) this.copy = this.buf.slice();
    return this.copy.subarray(start, end);
  }

  string(): string {
    const end = this.delimited();
    const v = utf8Decoder.decode(this.buf.subarray(this.pos, end));
    this.pos = end;
    return v;
  }

  /** Skips a field the message does not know, or one sent with an unexpected wire type. */
  skip(tag: number): void {
    const wt = tag & 7;
    switch (wt) {
      case WireType.Varint:
        this.v64();
        return;
      case WireType.Fixed64:
        if ((this.pos += 8) > this.buf.length) this.truncated();
        return;
      case WireType.LengthDelimited:
        this.pos = this.delimited();
        return;
      case WireType.Fixed32:
        if ((this.pos += 4) > this.buf.length) this.truncated();
        return;
      case WireType.StartGroup:
        for (;;) {
          if (this.pos >= this.buf.length) this.truncated();
          const inner = this.u32();
          if ((inner & 7) === WireType.EndGroup) {
            if (inner >>> 3 !== tag >>> 3) throw new ProtoDecodeError("mismatched end group");
            return;
          }
          this.skip(inner);
        }
      default:
        throw new ProtoDecodeError(`illegal wire type ${wt}`);
    }
  }
}

export function illegalTag(message: string): never {
  throw new ProtoDecodeError(`illegal tag 0 in ${message}`);
}

export function badLength(message: string): never {
  throw new ProtoDecodeError(`bad length in ${message}`);
}

export function badPacked(message: string): never {
  throw new ProtoDecodeError(`bad packed field in ${message}`);
}

export function eof(message: string): never {
  throw new ProtoDecodeError(`unexpected EOF in ${message}`);
}
