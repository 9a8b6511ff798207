// Unary gRPC calls on a ClientConnection: one HEADERS + one DATA out, the response message and
// the status from the trailers back.

import { H2Error, HeaderList } from "../../../src/h2/mod.ts";
import type { ClientConnection, StreamHandler } from "./client.ts";
import {
  encodeGrpcTimeout,
  GrpcError,
  grpcStatusFromHttp,
  grpcStatusFromReset,
  readGrpcStatus,
} from "./grpc.ts";
// The wire file itself, not src/api/mod.ts: the bench runs this client under Node, and the API's
// whole graph (the member behind it, node:sqlite) must stay out of it.
import { Deframer, frameMessage } from "../../../src/api/grpc/wire.ts";
import { EtcdError, GrpcCode } from "../../../src/errors/mod.ts";

export interface UnaryOptions {
  /** Extra request headers (lower-case names), e.g. [["token", t]]. */
  metadata?: HeaderList;
  /** Deadline: sent as grpc-timeout and enforced locally (CANCEL + DEADLINE_EXCEEDED). */
  timeoutMs?: number;
  /** Largest response message accepted. Default 4 MiB (gRPC's default). */
  maxMessageSize?: number;
  /** :scheme; default "http" (use "https" on TLS connections). */
  scheme?: string;
}

// Frozen header lists of option-less calls, per connection authority and path: the HPACK encoder
// replays their encoded block while its table is unchanged.
const plainHeaders = new Map<string, HeaderList>();

function cachedHeaders(authority: string, path: string): HeaderList {
  const key = authority + " " + path;
  let h = plainHeaders.get(key);
  if (!h) {
    if (plainHeaders.size > 1000) plainHeaders.clear();
    h = Object.freeze(
      grpcRequestHeaders(authority, path).map((e) => Object.freeze(e)),
    ) as HeaderList;
    plainHeaders.set(key, h);
  }
  return h;
}

/** The request headers of a gRPC call to `path` (e.g. "/etcdserverpb.KV/Put"). */
export function grpcRequestHeaders(
  authority: string,
  path: string,
  opts: UnaryOptions = {},
): HeaderList {
  const h: HeaderList = [
    [":method", "POST"],
    [":scheme", opts.scheme ?? "http"],
    [":path", path],
    [":authority", authority],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
  ];
  if (opts.timeoutMs !== undefined) h.push(["grpc-timeout", encodeGrpcTimeout(opts.timeoutMs)]);
  if (opts.metadata) h.push(...opts.metadata);
  return h;
}

class UnaryCall implements StreamHandler {
  private response: Uint8Array | undefined;
  private messages = 0;
  private status: { code: number; message: string } | undefined;
  private trailers: HeaderList = [];
  private failure: GrpcError | undefined;
  private readonly reader: Deframer;
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly resolve: (m: Uint8Array) => void,
    readonly reject: (e: Error) => void,
    maxMessageSize: number,
  ) {
    this.reader = new Deframer(maxMessageSize);
  }

  onHeaders(headers: HeaderList, endStream: boolean): void {
    if (endStream) {
      this.trailers = headers;
      this.status = readGrpcStatus(headers);
    }
    if (this.response === undefined && this.messages === 0 && !this.failure) {
      const st = headers.find((h) => h[0] === ":status");
      if (st && st[1] !== "200") {
        this.failure = new GrpcError(
          grpcStatusFromHttp(Number(st[1])),
          `unexpected HTTP status ${st[1]}`,
          headers,
        );
      }
    }
  }

  onData(data: Uint8Array): void {
    if (this.failure) return;
    try {
      for (const m of this.reader.push(data)) {
        this.messages++;
        this.response = m;
      }
    } catch (e) {
      const err = e as EtcdError;
      this.failure = new GrpcError(err.code, err.message);
    }
  }

  onClose(error?: Error): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (error) {
      if (error instanceof GrpcError) return this.reject(error);
      const code = error instanceof H2Error
        ? grpcStatusFromReset(error.code)
        : GrpcCode.Unavailable;
      return this.reject(new GrpcError(code, error.message));
    }
    if (this.failure) return this.reject(this.failure);
    const st = this.status;
    if (!st) return this.reject(new GrpcError(GrpcCode.Internal, "missing grpc-status"));
    if (st.code !== GrpcCode.OK) {
      return this.reject(new GrpcError(st.code, st.message, this.trailers));
    }
    if (this.messages !== 1 || this.reader.pending > 0) {
      return this.reject(
        new GrpcError(GrpcCode.Internal, `expected 1 response message, got ${this.messages}`),
      );
    }
    this.resolve(this.response!);
  }
}

/**
 * One unary call: `request` is the encoded protobuf message. Resolves with the encoded response
 * message; rejects with GrpcError (non-OK status, reset, connection loss as UNAVAILABLE).
 */
export function unaryCall(
  conn: ClientConnection,
  path: string,
  request: Uint8Array,
  opts: UnaryOptions = {},
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const call = new UnaryCall(resolve, reject, opts.maxMessageSize ?? 4 * 1024 * 1024);
    const plain = opts.metadata === undefined && opts.timeoutMs === undefined &&
      opts.scheme === undefined;
    const headers = plain
      ? cachedHeaders(conn.authority, path)
      : grpcRequestHeaders(conn.authority, path, opts);
    const stream = conn.request(headers, call, frameMessage(request));
    if (opts.timeoutMs !== undefined && !stream.closed) {
      call.timer = setTimeout(() => {
        stream.reset();
        call.reject(new GrpcError(GrpcCode.DeadlineExceeded, "context deadline exceeded"));
      }, opts.timeoutMs);
    }
  });
}
