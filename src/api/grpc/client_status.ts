// The client's side of gRPC over HTTP/2: reading a call's status from its trailers, the
// grpc-timeout it sends, and how HTTP statuses and stream resets become gRPC codes. Message
// framing, grpc-message escaping and the status codes are the server's (src/api, src/errors).
import { ErrorCode, type HeaderList } from "../../h2/mod.ts";
import { GrpcCode } from "../../errors/mod.ts";

/** A call that ended with a non-OK status; `details` is the decoded grpc-message. */
export class GrpcError extends Error {
  constructor(readonly code: number, readonly details: string, readonly metadata: HeaderList = []) {
    super(`${code} ${GrpcCode[code] ?? `CODE_${code}`}: ${details}`);
    this.name = "GrpcError";
  }
}

/** Inverse of grpc-message percent-encoding; malformed escapes are kept as written. */
export function decodeGrpcMessageText(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
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

/** The status a call ended with, from its trailers (or trailers-only headers). */
export function readGrpcStatus(headers: HeaderList): { code: number; message: string } | undefined {
  let code: number | undefined, message = "";
  for (const [name, value] of headers) {
    if (name === "grpc-status") code = /^\d+$/.test(value) ? Number(value) : GrpcCode.Unknown;
    else if (name === "grpc-message") message = decodeGrpcMessageText(value);
  }
  return code === undefined ? undefined : { code, message };
}

/** How gRPC reports an HTTP status other than 200 (HTTP-to-gRPC mapping). */
export function grpcStatusFromHttp(status: number): number {
  switch (status) {
    case 400:
      return GrpcCode.Internal;
    case 401:
      return GrpcCode.Unauthenticated;
    case 403:
      return GrpcCode.PermissionDenied;
    case 404:
      return GrpcCode.Unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode.Unavailable;
    default:
      return GrpcCode.Unknown;
  }
}

/** How gRPC reports a stream reset by RST_STREAM code. */
export function grpcStatusFromReset(code: number): number {
  switch (code) {
    case ErrorCode.CANCEL:
      return GrpcCode.Canceled;
    case ErrorCode.REFUSED_STREAM:
      return GrpcCode.Unavailable;
    case ErrorCode.ENHANCE_YOUR_CALM:
      return GrpcCode.ResourceExhausted;
    case ErrorCode.INADEQUATE_SECURITY:
      return GrpcCode.PermissionDenied;
    default:
      return GrpcCode.Internal;
  }
}
