// A growable byte buffer for building frames without allocating per field. Role-independent.

export class ByteBuffer {
  buf: Uint8Array;
  length = 0;

  constructor(initialCapacity = 4096) {
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    const b = this.buf, i = this.length;
    b[i] = v >>> 8;
    b[i + 1] = v;
    this.length = i + 2;
  }

  u24(v: number): void {
    this.ensure(3);
    const b = this.buf, i = this.length;
    b[i] = v >>> 16;
    b[i + 1] = v >>> 8;
    b[i + 2] = v;
    this.length = i + 3;
  }

  u32(v: number): void {
    this.ensure(4);
    const b = this.buf, i = this.length;
    b[i] = v >>> 24;
    b[i + 1] = v >>> 16;
    b[i + 2] = v >>> 8;
    b[i + 3] = v;
    this.length = i + 4;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.length);
    this.length += src.length;
  }

  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }

  /** Overwrites a 24-bit value already written at `at` (a frame length filled in afterwards). */
  setU24(at: number, v: number): void {
    this.buf[at] = v >>> 16;
    this.buf[at + 1] = v >>> 8;
    this.buf[at + 2] = v;
  }

  /** A copy of the content; the buffer is then empty and reusable. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    return out;
  }
}

export function readU32(b: Uint8Array, i: number): number {
  return ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
}
