// Protobuf wire primitives: varints (up to 64 bits), fixed 32/64-bit, length-delimited.
// 64-bit values travel as two 32-bit halves so that numbers below 2^53 never touch BigInt.

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
}

const TWO32 = 4294967296;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtoDecodeError";
  }
}

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
    while (v > 127) {
      this.buf[this.pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  /** int32 and enums: negative values are sign-extended to ten bytes, as protobuf requires. */
  int32(v: number): void {
    if (v >= 0) this.uint32(v);
    else this.varint64(v >>> 0, 0xffffffff);
  }

  /** A non-negative integer below 2^53, or a negative one (two's complement, 64 bits). */
  varintNumber(v: number): void {
    if (v >= 0 && v < 0x80000000) return this.uint32(v);
    if (v < 0) return this.varintBigint(BigInt(v));
    this.varint64(v % TWO32, Math.floor(v / TWO32));
  }

  varintBigint(v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.varint64(Number(u & 0xffffffffn), Number(u >> 32n));
  }

  varint64(lo: number, hi: number): void {
    this.ensure(10);
    while (hi !== 0 || lo > 127) {
      this.buf[this.pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }

  fixed32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  fixed64(lo: number, hi: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, lo >>> 0, true);
    this.view.setUint32(this.pos + 4, hi >>> 0, true);
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
    this.uint32(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  string(v: string): void {
    // Reserve the longest possible length prefix, encode in place, then close the gap.
    const max = v.length * 3;
    const prefix = max < 128 ? 1 : max < 16384 ? 2 : 5;
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
    let n = 1;
    for (let v = len; v > 127; v >>>= 7) n++;
    if (n !== reserved) this.buf.copyWithin(at + n, at + reserved, at + reserved + len);
    let v = len;
    let p = at;
    while (v > 127) {
      this.buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buf[p] = v;
    this.pos = at + n + len;
  }
}

export class Reader {
  pos = 0;
  readonly buf: Uint8Array;
  private readonly view: DataView;

  constructor(buf: Uint8Array) {
    // A plain view, so that slice() copies even when given a node Buffer (whose slice shares).
    this.buf = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private truncated(): never {
    throw new ProtoDecodeError("unexpected EOF");
  }

  /** A varint's low 32 bits (enough for tags, lengths, int32, enums, bools). */
  uint32(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.buf.length) this.truncated();
      const b = this.buf[this.pos++];
      v |= (b & 127) << shift;
      if (b < 128) return v >>> 0;
    }
    // Bits above 32 are dropped, but the varint must still end within ten bytes.
    for (let i = 5; i < 10; i++) {
      if (this.pos >= this.buf.length) this.truncated();
      if (this.buf[this.pos++] < 128) return v >>> 0;
    }
    throw new ProtoDecodeError("integer overflow in varint");
  }

  int32(): number {
    return this.uint32() | 0;
  }

  /** A full 64-bit varint as [low, high] 32-bit halves. */
  varint64(): [number, number] {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) this.truncated();
      const b = this.buf[this.pos++];
      if (i < 4) lo |= (b & 127) << (7 * i);
      else if (i === 4) {
        lo |= (b & 15) << 28;
        hi |= (b & 127) >> 4;
      } else hi |= (b & 127) << (7 * i - 32);
      if (b < 128) return [lo >>> 0, hi >>> 0];
    }
    throw new ProtoDecodeError("integer overflow in varint");
  }

  fixed32(): number {
    if (this.pos + 4 > this.buf.length) this.truncated();
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  fixed64(): [number, number] {
    const lo = this.fixed32();
    return [lo, this.fixed32()];
  }

  float(): number {
    if (this.pos + 4 > this.buf.length) this.truncated();
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.buf.length) this.truncated();
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The end offset of a length-delimited value starting here. */
  delimited(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.buf.length) this.truncated();
    return end;
  }

  bytes(): Uint8Array {
    const end = this.delimited();
    // A copy: decoded values outlive the frame buffer (the store keeps keys and values).
    const v = this.buf.slice(this.pos, end);
    this.pos = end;
    return v;
  }

  string(): string {
    const end = this.delimited();
    const v = utf8Decoder.decode(this.buf.subarray(this.pos, end));
    this.pos = end;
    return v;
  }

  skip(wt: WireType, no: number): void {
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
          const tag = this.uint32();
          if ((tag & 7) === WireType.EndGroup) {
            if (tag >>> 3 !== no) throw new ProtoDecodeError("mismatched end group");
            return;
          }
          this.skip(tag & 7, tag >>> 3);
        }
      default:
        throw new ProtoDecodeError(`illegal wire type ${wt}`);
    }
  }
}

/** Joins 64-bit halves into a number; exact below 2^53, which non-ID fields stay under. */
export function joinNumber(lo: number, hi: number, signed: boolean): number {
  if (signed && hi & 0x80000000) return -((~hi >>> 0) * TWO32 + (~lo >>> 0) + 1);
  return hi * TWO32 + lo;
}

export function joinBigint(lo: number, hi: number, signed: boolean): bigint {
  const u = (BigInt(hi) << 32n) | BigInt(lo);
  return signed ? BigInt.asIntN(64, u) : u;
}

/** Splits a 64-bit value given as number or bigint into [low, high] halves. */
export function split64(v: number | bigint): [number, number] {
  if (typeof v === "number" && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    return [v % TWO32, Math.floor(v / TWO32)];
  }
  const u = BigInt.asUintN(64, BigInt(v));
  return [Number(u & 0xffffffffn), Number(u >> 32n)];
}
