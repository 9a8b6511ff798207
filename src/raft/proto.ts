// Minimal protobuf wire-format helpers (varint and length-delimited fields) for the raftpb
// codec; raft keeps its own so it depends on nothing outside src/raft.

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;

export class ProtoWriter {
  private buf = new Uint8Array(64);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private rawVarint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  private rawVarint64(n: bigint): void {
    this.ensure(10);
    n = BigInt.asUintN(64, n);
    while (n >= 0x80n) {
      this.buf[this.pos++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    this.buf[this.pos++] = Number(n);
  }

  private tag(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  uint(field: number, n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`invalid uint64 ${n}`);
    this.tag(field, WIRE_VARINT);
    this.rawVarint(n);
    return this;
  }

  uint64(field: number, n: bigint): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint64(n);
    return this;
  }

  bool(field: number, b: boolean): this {
    return this.uint(field, b ? 1 : 0);
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WIRE_BYTES);
    this.rawVarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class ProtoReader {
  private pos = 0;
  constructor(private buf: Uint8Array) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  /** Next field header: field number and wire type. */
  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t % 8 };
  }

  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new RangeError("truncated varint");
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 0x80;
    }
    throw new RangeError("varint too long");
  }

  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new RangeError("truncated varint");
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new RangeError("varint too long");
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new RangeError("truncated bytes field");
    const out = this.buf.slice(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** Skips a field we do not know, as protobuf requires. */
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos += this.varint();
        break;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new RangeError(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.buf.length) throw new RangeError("truncated field");
  }

  /** Reads a repeated uint64 field occurrence, packed or not. */
  repeatedUint64(wire: number, out: bigint[]): void {
    if (wire === 2) {
      const sub = new ProtoReader(this.bytes());
      while (!sub.done()) out.push(sub.varint64());
    } else {
      out.push(this.varint64());
    }
  }
}
