// gRPC calls on a lean HTTP/2 ClientConnection: unary (one HEADERS + one DATA out, the response
// message and the status from the trailers back) and streaming (messages both ways until the
// status). The gRPC proxy's upstream calls, the tests' and the bench's client.

import { type ClientConnection, ClientStream, H2Error, type HeaderList } from "../../h2/mod.ts";
import type { StreamHandler } from "../../h2/mod.ts";
import {
  encodeGrpcTimeout,
  GrpcError,
  grpcStatusFromHttp,
  grpcStatusFromReset,
  readGrpcStatus,
} from "./client_status.ts";
import { Deframer, frameMessage } from "./wire.ts";
import { EtcdError, GrpcCode } from "../../errors/mod.ts";

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

/**
 * Reads one call's response: messages as they complete, then the status from the trailers, an
 * HTTP status other than 200, a reset or the connection's loss. `settle` is told once: nothing
 * for an OK status, else the GrpcError.
 */
abstract class CallReader implements StreamHandler {
  private status: { code: number; message: string } | undefined;
  private trailers: HeaderList = [];
  protected failure: GrpcError | undefined;
  private readonly reader: Deframer;
  private sawMessage = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timedOut = false;

  constructor(maxMessageSize: number) {
    this.reader = new Deframer(maxMessageSize);
  }

  protected abstract message(m: Uint8Array): void;
  protected abstract settle(err?: GrpcError): void;

  /** Enforces the deadline locally: the stream is reset and the call ends DeadlineExceeded. */
  expireAfter(stream: ClientStream, timeoutMs: number | undefined): void {
    if (timeoutMs === undefined || stream.closed) return;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      stream.reset();
    }, timeoutMs);
  }

  onHeaders(headers: HeaderList, endStream: boolean): void {
    if (endStream) {
      this.trailers = headers;
      this.status = readGrpcStatus(headers);
    }
    if (!this.sawMessage && !this.failure) {
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
        this.sawMessage = true;
        this.message(m);
      }
    } catch (e) {
      const err = e as EtcdError;
      this.failure = new GrpcError(err.code, err.message);
    }
  }

  onClose(error?: Error): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.timedOut) {
      return this.settle(new GrpcError(GrpcCode.DeadlineExceeded, "context deadline exceeded"));
    }
    if (error) {
      if (error instanceof GrpcError) return this.settle(error);
      const code = error instanceof H2Error
        ? grpcStatusFromReset(error.code)
        : GrpcCode.Unavailable;
      return this.settle(new GrpcError(code, error.message));
    }
    if (this.failure) return this.settle(this.failure);
    const st = this.status;
    if (!st) return this.settle(new GrpcError(GrpcCode.Internal, "missing grpc-status"));
    if (st.code !== GrpcCode.OK) {
      return this.settle(new GrpcError(st.code, st.message, this.trailers));
    }
    if (this.reader.pending > 0) {
      return this.settle(new GrpcError(GrpcCode.Internal, "the response ended inside a message"));
    }
    this.settle();
  }
}

class UnaryCall extends CallReader {
  private response: Uint8Array | undefined;
  private messages = 0;

  constructor(
    readonly resolve: (m: Uint8Array) => void,
    readonly reject: (e: Error) => void,
    maxMessageSize: number,
  ) {
    super(maxMessageSize);
  }

  protected message(m: Uint8Array): void {
    this.messages++;
    this.response = m;
  }

  protected settle(err?: GrpcError): void {
    if (err) return this.reject(err);
    if (this.messages !== 1) {
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
    call.expireAfter(stream, opts.timeoutMs);
  });
}

/** What a streaming call's owner is told: each response message, then the end, once. */
export interface CallHandler {
  message(m: Uint8Array): void;
  /** Undefined for an OK status; the call's GrpcError otherwise. */
  end(err?: GrpcError): void;
}

class StreamingCall extends CallReader {
  constructor(private readonly handler: CallHandler, maxMessageSize: number) {
    super(maxMessageSize);
  }

  protected message(m: Uint8Array): void {
    this.handler.message(m);
  }

  protected settle(err?: GrpcError): void {
    this.handler.end(err);
  }
}

/** A streaming call in progress: the client's side of it. */
export interface ClientCall {
  /** Sends one encoded request message. */
  send(request: Uint8Array): void;
  /** Half-closes: no more requests. */
  end(): void;
  /** Abandons the call (RST_STREAM CANCEL); the handler's end() reports Canceled. */
  cancel(): void;
  readonly closed: boolean;
}

/**
 * Opens a client-, server- or bidirectionally streaming call on `path`. With `request` the first
 * message goes out with the headers; `halfClose` ends the client's side after it (server
 * streaming). The handler hears every response message and then the status.
 */
export function streamCall(
  conn: ClientConnection,
  path: string,
  handler: CallHandler,
  opts: UnaryOptions & { request?: Uint8Array; halfClose?: boolean } = {},
): ClientCall {
  const call = new StreamingCall(handler, opts.maxMessageSize ?? 4 * 1024 * 1024);
  const body = opts.request ? frameMessage(opts.request) : undefined;
  const stream = conn.request(
    grpcRequestHeaders(conn.authority, path, opts),
    call,
    body,
    opts.halfClose ?? false,
  );
  call.expireAfter(stream, opts.timeoutMs);
  return {
    send: (request) => {
      if (!stream.closed && !stream.outboxEnd) stream.write(frameMessage(request));
    },
    end: () => {
      if (!stream.closed && !stream.outboxEnd) stream.write(new Uint8Array(0), true);
    },
    cancel: () => stream.reset(),
    get closed() {
      return stream.closed;
    },
  };
}
