// The one protobuf reader: the specialised codecs (hot.generated.ts), the reflective codec
// (codec.ts) and raft's raftpb codec all decode through it, so they accept the same inputs and
// fail with the same errors, worded as etcd's gogoproto decoders word them.
// 64-bit values are read as two 32-bit halves, so numbers below 2^53 never touch BigInt.

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
}

export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtoDecodeError";
  }
}

const TWO32 = 4294967296;
const utf8Decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** A fresh empty bytes value (a view: allocating backing stores is what decoding avoids). */
export function emptyBytes(): Uint8Array {
  return EMPTY.subarray(0);
}

/**
 * A read position over one input buffer. Decoding is synchronous, so a codec may keep one
 * Reader and reset() it for every message.
 */
export class Reader {
  buf: Uint8Array = EMPTY;
  pos = 0;
  // The private copy of the input that decoded bytes fields are views into, made on first use.
  private copy: Uint8Array | undefined;
  // The halves of the last value varint64() or fixed64() read.
  private lo = 0;
  private hi = 0;

  constructor(bytes?: Uint8Array) {
    if (bytes) this.reset(bytes);
  }

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

  /** Ends a message or packed field that had to stop at `end`: one that ran past it was cut. */
  ended(end: number): void {
    if (this.pos > end) this.truncated();
  }

  /** A varint's low 32 bits (tags, lengths, int32, enums, bools); the rest are dropped. */
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
    // Bits above 32 are dropped, but the varint must still end within ten bytes.
    for (let i = 5; i < 10; i++) {
      if (this.pos >= buf.length) this.truncated();
      if (buf[this.pos++] < 128) return v >>> 0;
    }
    throw new ProtoDecodeError("proto: integer overflow");
  }

  i32(): number {
    return this.u32() | 0;
  }

  bool(): boolean {
    return this.u32() !== 0;
  }

  // Reads a full 64-bit varint into lo/hi.
  private varint64(): void {
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
    throw new ProtoDecodeError("proto: integer overflow");
  }

  /** int64 as a number (exact below 2^53, which non-identifier fields stay under). */
  i64(): number {
    const buf = this.buf;
    if (this.pos < buf.length && buf[this.pos] < 128) return buf[this.pos++];
    this.varint64();
    return this.number(true);
  }

  /** uint64 as a number. */
  u64(): number {
    const buf = this.buf;
    if (this.pos < buf.length && buf[this.pos] < 128) return buf[this.pos++];
    this.varint64();
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
    this.varint64();
    return this.bigint(false);
  }

  // The halves last read as one number (signed: two's complement) or bigint.
  private number(signed: boolean): number {
    const { lo, hi } = this;
    if (signed && hi & 0x80000000) return -((~hi >>> 0) * TWO32 + (~lo >>> 0) + 1);
    return hi * TWO32 + lo;
  }

  private bigint(signed: boolean): bigint {
    const u = this.hi === 0 ? BigInt(this.lo) : (BigInt(this.hi) << 32n) | BigInt(this.lo);
    return signed ? BigInt.asIntN(64, u) : u;
  }

  // A view for reading `size` little-endian bytes at pos (etcd's messages have no fixed or
  // floating-point fields, so this is off the hot path).
  private fixed(size: number): DataView {
    if (this.pos + size > this.buf.length) this.truncated();
    const b = this.buf;
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  fixed32(): number {
    const v = this.fixed(4).getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** fixed64 (signed: sfixed64) as a number, exact below 2^53. */
  fixed64(signed: boolean): number {
    this.fixed64Halves();
    return this.number(signed);
  }

  /** fixed64 (signed: sfixed64) identifier as bigint. */
  fixed64n(signed: boolean): bigint {
    this.fixed64Halves();
    return this.bigint(signed);
  }

  private fixed64Halves(): void {
    const view = this.fixed(8);
    this.lo = view.getUint32(this.pos, true);
    this.hi = view.getUint32(this.pos + 4, true);
    this.pos += 8;
  }

  float(): number {
    const v = this.fixed(4).getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    const v = this.fixed(8).getFloat64(this.pos, true);
    this.pos += 8;
    return v;
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

  /**
   * Skips a field `message` does not know, or one sent with an unexpected wire type. A stray
   * end-group or field number 0 is malformed, as etcd's decoders say.
   */
  unknown(tag: number, message: string): void {
    const wt = tag & 7;
    if (wt === WireType.EndGroup) {
      throw new ProtoDecodeError(`proto: ${message}: wiretype end group for non-group`);
    }
    if (tag >>> 3 === 0) {
      throw new ProtoDecodeError(`proto: ${message}: illegal tag 0 (wire type ${wt})`);
    }
    this.skip(tag);
  }

  private skip(tag: number): void {
    const wt = tag & 7;
    switch (wt) {
      case WireType.Varint:
        this.varint64();
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
            if (inner >>> 3 !== tag >>> 3) {
              throw new ProtoDecodeError("proto: mismatched end group");
            }
            return;
          }
          this.skip(inner);
        }
      default:
        throw new ProtoDecodeError(`proto: illegal wireType ${wt}`);
    }
  }
}
