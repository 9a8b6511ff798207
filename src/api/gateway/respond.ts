// How etcd 3.4's gateway (grpc-gateway v1) words its answers: HTTP status per gRPC code,
// unary error bodies, stream chunks and stream errors.

import { GrpcCode } from "../../errors/mod.ts";
import { toEtcdError } from "../errors.ts";

/** grpc-gateway's HTTPStatusFromCode. */
export function httpStatusOf(code: GrpcCode): number {
  switch (code) {
    case GrpcCode.OK:
      return 200;
    case GrpcCode.Canceled:
      return 408;
    case GrpcCode.InvalidArgument:
    case GrpcCode.OutOfRange:
      return 400;
    case GrpcCode.DeadlineExceeded:
      return 504;
    case GrpcCode.NotFound:
      return 404;
    case GrpcCode.AlreadyExists:
    case GrpcCode.Aborted:
      return 409;
    case GrpcCode.PermissionDenied:
      return 403;
    case GrpcCode.Unauthenticated:
      return 401;
    case GrpcCode.ResourceExhausted:
      return 429;
    case GrpcCode.FailedPrecondition:
      return 412;
    case GrpcCode.Unimplemented:
      return 501;
    case GrpcCode.Unavailable:
      return 503;
    default:
      return 500; // Unknown, Internal, DataLoss
  }
}

/** Go's http.StatusText for the statuses above. */
const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  409: "Conflict",
  412: "Precondition Failed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Any thrown value as the gRPC status a client would see. */
export function statusOf(err: unknown): { code: GrpcCode; message: string } {
  const { code, message } = toEtcdError(err);
  return { code, message };
}

const JSON_TYPE = "application/json";
const utf8 = new TextEncoder();

/** Headers of every answer that reached the gRPC side (grpc-gateway forwards content-type). */
export const GRPC_FORWARDED = {
  "content-type": JSON_TYPE,
  "grpc-metadata-content-type": "application/grpc",
};

function errorBody(code: GrpcCode, message: string): string {
  return JSON.stringify({ error: message, message, code });
}

/**
 * A failed unary call: status from the code, and the body streamed (etcd sends it chunked,
 * announcing a trailer the Fetch API cannot send).
 */
export function unaryError(err: unknown): Response {
  const { code, message } = statusOf(err);
  const body = utf8.encode(errorBody(code, message));
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(body);
      c.close();
    },
  });
  return new Response(stream, {
    status: httpStatusOf(code),
    headers: { "content-type": JSON_TYPE },
  });
}

/** A body the gateway could not decode: unary calls answer 400/InvalidArgument, streams 500/Unknown. */
export function badRequestBody(message: string, streaming: boolean): Response {
  const code = streaming ? GrpcCode.Unknown : GrpcCode.InvalidArgument;
  return new Response(errorBody(code, message), {
    status: httpStatusOf(code),
    headers: { "content-type": JSON_TYPE },
  });
}

/** One line of a streamed answer. */
export function resultChunk(json: unknown): Uint8Array {
  return utf8.encode(`${JSON.stringify({ result: json })}\n`);
}

/** The error that ends a streamed answer (no newline after it, as grpc-gateway writes it). */
export function streamErrorChunk(err: unknown): { status: number; chunk: Uint8Array } {
  const { code, message } = statusOf(err);
  const status = httpStatusOf(code);
  const error = { grpc_code: code, http_code: status, message, http_status: STATUS_TEXT[status] };
  return { status, chunk: utf8.encode(JSON.stringify({ error })) };
}
