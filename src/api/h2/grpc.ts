// gRPC over HTTP/2 (the gRPC "PROTOCOL-HTTP2" spec): length-prefixed messages, status codes,
// grpc-message percent-coding, grpc-timeout. Role-independent: a server transport reuses it.

import { ErrorCode } from "./errors.ts";
import type { HeaderList } from "./hpack.ts";

/** gRPC status codes (same numbering as src/server/errors.ts GrpcCode). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A call that ended with a non-OK status; `details` is the decoded grpc-message. */
export class GrpcError extends Error {
  constructor(readonly code: number, readonly details: string, readonly metadata: HeaderList = []) {
    super(`${code} ${statusName(code)}: ${details}`);
    this.name = "GrpcError";
  }
}

const statusNames = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));
export function statusName(code: number): string {
  return statusNames.get(code) ?? `CODE_${code}`;
}

/** Prefixes one message: compressed flag (0) and 32-bit big-endian length. */
export function encodeGrpcMessage(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  const n = message.length;
  out[1] = n >>> 24;
  out[2] = n >>> 16;
  out[3] = n >>> 8;
  out[4] = n;
  out.set(message, 5);
  return out;
}

/**
 * Reassembles length-prefixed messages from DATA chunks, which may split or merge them.
 * Throws GrpcError (RESOURCE_EXHAUSTED / INTERNAL) on oversize or compressed messages.
 */
export class GrpcMessageReader {
  private buf: Uint8Array | undefined;

  constructor(readonly maxMessageSize = 4 * 1024 * 1024) {}

  /** Bytes of an incomplete message still held. */
  get pendingBytes(): number {
    return this.buf?.length ?? 0;
  }

  push(chunk: Uint8Array, onMessage: (m: Uint8Array) => void): void {
    let b = chunk;
    if (this.buf) {
      b = new Uint8Array(this.buf.length + chunk.length);
      b.set(this.buf);
      b.set(chunk, this.buf.length);
      this.buf = undefined;
    }
    let i = 0;
    while (b.length - i >= 5) {
      if (b[i] !== 0) {
        throw new GrpcError(GrpcStatus.INTERNAL, "compressed messages are not supported");
      }
      const n = ((b[i + 1] << 24) | (b[i + 2] << 16) | (b[i + 3] << 8) | b[i + 4]) >>> 0;
      if (n > this.maxMessageSize) {
        throw new GrpcError(
          GrpcStatus.RESOURCE_EXHAUSTED,
          `grpc: received message larger than max (${n} vs. ${this.maxMessageSize})`,
        );
      }
      if (b.length - i - 5 < n) break;
      onMessage(b.subarray(i + 5, i + 5 + n));
      i += 5 + n;
    }
    if (i < b.length) this.buf = b.slice(i);
  }
}

/** grpc-message percent-encoding: bytes outside printable ASCII, and '%', become %XX of UTF-8. */
export function encodeGrpcMessageText(text: string): string {
  if (!/[^\x20-\x24\x26-\x7e]/.test(text)) return text;
  let out = "";
  for (const b of new TextEncoder().encode(text)) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25
      ? String.fromCharCode(b)
      : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** Inverse of encodeGrpcMessageText; malformed escapes are kept as written. */
export function decodeGrpcMessageText(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (
      c === 0x25 && i + 2 < value.length + 0 && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))
    ) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c & 0xff);
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** grpc-timeout value for a deadline in milliseconds (at most 8 digits, coarser units above). */
export function encodeGrpcTimeout(ms: number): string {
  const v = Math.max(0, Math.ceil(ms));
  if (v < 1e8) return `${v}m`;
  if (v / 1e3 < 1e8) return `${Math.ceil(v / 1e3)}S`;
  return `${Math.ceil(v / 6e4)}M`;
}

const timeoutUnitMs: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

/** Milliseconds of a grpc-timeout value, or undefined when malformed. */
export function decodeGrpcTimeout(value: string): number | undefined {
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  return m ? Number(m[1]) * timeoutUnitMs[m[2]] : undefined;
}

/** The status a call ended with, from its trailers (or trailers-only headers). */
export function readGrpcStatus(headers: HeaderList): { code: number; message: string } | undefined {
  let code: number | undefined, message = "";
  for (const [name, value] of headers) {
    if (name === "grpc-status") code = /^\d+$/.test(value) ? Number(value) : GrpcStatus.UNKNOWN;
    else if (name === "grpc-message") message = decodeGrpcMessageText(value);
  }
  return code === undefined ? undefined : { code, message };
}

/** How gRPC reports an HTTP status other than 200 (HTTP-to-gRPC mapping). */
export function grpcStatusFromHttp(status: number): number {
  switch (status) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/** How gRPC reports a stream reset by RST_STREAM code. */
export function grpcStatusFromReset(code: number): number {
  switch (code) {
    case ErrorCode.CANCEL:
      return GrpcStatus.CANCELLED;
    case ErrorCode.REFUSED_STREAM:
      return GrpcStatus.UNAVAILABLE;
    case ErrorCode.ENHANCE_YOUR_CALM:
      return GrpcStatus.RESOURCE_EXHAUSTED;
    case ErrorCode.INADEQUATE_SECURITY:
      return GrpcStatus.PERMISSION_DENIED;
    default:
      return GrpcStatus.INTERNAL;
  }
}
