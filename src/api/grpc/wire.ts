// gRPC over HTTP/2 wire details: length-prefixed message framing, grpc-timeout, and the
// percent-encoding of grpc-message.

import { EtcdError, GrpcCode } from "../../errors/mod.ts";

/** One length-prefixed message: flag 0 (uncompressed), 4-byte big-endian length, payload. */
export function frameMessage(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/**
 * Splits the request body into messages. Sizes are checked from the 5-byte prefix, before the
 * payload is buffered, so an oversized message costs no memory.
 */
/** grpc-go's answer to a request message over the server's receive limit. */
export function messageTooLarge(length: number, max: number): EtcdError {
  return new EtcdError(
    GrpcCode.ResourceExhausted,
    `grpc: received message larger than max (${length} vs. ${max})`,
  );
}

export class Deframer {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private readonly maxMessageSize: number) {}

  /** Adds body bytes and returns the messages they complete; throws EtcdError on bad input. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Uint8Array[] = [];
    while (this.buffered >= 5) {
      const head = this.peek(5);
      const len = new DataView(head.buffer, head.byteOffset, 5).getUint32(1);
      if (head[0] !== 0) {
        throw new EtcdError(
          GrpcCode.Unimplemented,
          head[0] === 1
            ? "grpc: compressed messages are not supported (use identity encoding)"
            : `grpc: invalid compressed flag ${head[0]}`,
        );
      }
      if (len > this.maxMessageSize) throw messageTooLarge(len, this.maxMessageSize);
      if (this.buffered < 5 + len) break;
      out.push(this.take(5 + len).subarray(5));
    }
    return out;
  }

  /** Bytes of an unfinished message left when the body ended. */
  get pending(): number {
    return this.buffered;
  }

  private peek(n: number): Uint8Array {
    if (this.chunks[0].length >= n) return this.chunks[0];
    return this.take(n, false);
  }

  private take(n: number, consume = true): Uint8Array {
    const first = this.chunks[0];
    if (first.length >= n) {
      if (consume) {
        this.chunks[0] = first.subarray(n);
        if (this.chunks[0].length === 0) this.chunks.shift();
        this.buffered -= n;
      }
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const c = this.chunks[i];
      const part = c.subarray(0, Math.min(c.length, n - filled));
      out.set(part, filled);
      filled += part.length;
      if (consume) {
        if (part.length === c.length) this.chunks.shift();
        else this.chunks[i] = c.subarray(part.length);
      } else i++;
    }
    if (consume) this.buffered -= n;
    return out;
  }
}

const TIMEOUT_UNITS_MS: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000001,
};

/** grpc-timeout ("100m", "5S", ...) in milliseconds; undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  const m = value ? /^(\d{1,8})([HMSmun])$/.exec(value) : null;
  return m ? Number(m[1]) * TIMEOUT_UNITS_MS[m[2]] : undefined;
}

const utf8 = new TextEncoder();

/** grpc-message encoding: bytes outside printable ASCII, and '%', become %XX. */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const b of utf8.encode(message)) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25
      ? String.fromCharCode(b)
      : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}
