// One gRPC call on one HTTP/2 stream: reads length-prefixed requests, writes responses with
// back-pressure, and ends with grpc-status/grpc-message trailers (or a trailers-only response
// when nothing was sent yet). Cancellation, deadlines and lost connections abort ctx.signal.

import type { PeerCertificate } from "node:tls";
import type { ServerStream, StreamEvents } from "../../h2/mod.ts";
import { EtcdError, GrpcCode } from "../../errors/mod.ts";
import { toEtcdError } from "../errors.ts";
import { Deframer, encodeGrpcMessage, frameMessage, parseGrpcTimeout } from "./wire.ts";

export interface CallContext {
  /** Request headers without pseudo-headers; names lowercased, repeated values joined by ", ". */
  metadata: Record<string, string>;
  /** Absolute deadline (ms since the epoch) from grpc-timeout, if the client set one. */
  deadline?: number;
  /** Aborted when the call ends for any reason: cancel, RST_STREAM, deadline, lost connection. */
  signal: AbortSignal;
  /** Remote address as "ip:port" (IPv6 in brackets). */
  peer: string;
  /** The method path, e.g. "/etcdserverpb.KV/Range". */
  method: string;
  /** The verified client certificate on TLS connections that presented one. */
  peerCertificate(): PeerCertificate | undefined;
}

export interface CallOptions {
  maxReceiveMessageSize: number;
  maxSendMessageSize: number;
}

// Requests buffered ahead of a slow handler before the stream stops reading.
const READ_AHEAD = 16;

// Frozen, so that the lean server replays their HPACK blocks.
const RESPONSE_HEADERS = Object.freeze({ ":status": 200, "content-type": "application/grpc" });
const OK_TRAILERS = Object.freeze({ "grpc-status": "0" });
// The signal's reason when a call ends normally: one shared error, since building an Error
// (with its stack) per call is a measurable share of a unary request's cost.
export const CALL_ENDED = new EtcdError(GrpcCode.Canceled, "context canceled");

/** The call is the stream's event receiver: no closures per request. */
export class Call implements StreamEvents {
  readonly ctx: CallContext;
  private readonly abort = new AbortController();
  private headersSent = false;
  private done = false;
  private drained: Promise<void> | undefined;
  private releaseDrain: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Told once, when the call ends, the status it ended with (metrics). */
  onStatus?: (code: GrpcCode) => void;
  // The request side: complete messages not yet taken, and whether the client half-closed.
  private readonly deframer: Deframer;
  private queue: Uint8Array[] = [];
  private ended = false;
  private discarding = false;
  private wake: (() => void) | undefined;

  constructor(private readonly stream: ServerStream, private readonly opts: CallOptions) {
    const headers = stream.headers;
    const metadata: Record<string, string> = {};
    for (const k in headers) {
      const v = headers[k];
      if (k[0] === ":" || v === undefined) continue;
      metadata[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : String(v);
    }
    const timeout = parseGrpcTimeout(metadata["grpc-timeout"]);
    this.deframer = new Deframer(opts.maxReceiveMessageSize);
    this.ctx = {
      metadata,
      deadline: timeout === undefined ? undefined : Date.now() + timeout,
      signal: this.abort.signal,
      peer: stream.peerAddress,
      method: String(headers[":path"]),
      peerCertificate: () => stream.peerCertificate(),
    };
    if (timeout !== undefined) {
      this.timer = setTimeout(
        () => this.finish(GrpcCode.DeadlineExceeded, "context deadline exceeded"),
        timeout,
      );
    }
    stream.attach(this);
  }

  get finished(): boolean {
    return this.done;
  }

  // --- StreamEvents ---

  onData(chunk: Uint8Array): void {
    if (this.discarding || this.done) return;
    try {
      const msgs = this.deframer.push(chunk);
      for (let i = 0; i < msgs.length; i++) this.queue.push(msgs[i]);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.queue.length >= READ_AHEAD) this.stream.pause();
    if (this.queue.length > 0) this.notify();
  }

  onEnd(): void {
    this.ended = true;
    if (!this.discarding && this.deframer.pending > 0) {
      this.finish(GrpcCode.Internal, "grpc: request body ended inside a message");
    }
    this.notify();
  }

  onDrain(): void {
    const release = this.releaseDrain;
    this.releaseDrain = undefined;
    this.drained = undefined;
    release?.();
  }

  /** Client cancel (RST_STREAM) and connection loss both close the stream before we finish. */
  onClose(): void {
    if (!this.done) this.stop(new EtcdError(GrpcCode.Canceled, "context canceled"));
  }

  /**
   * The first request message of a unary or server-streaming call; undefined when the call
   * ended first (cancelled, or failed here: bad framing, no message, too large).
   */
  async firstRequest(): Promise<Uint8Array | undefined> {
    for (;;) {
      if (this.done) return undefined;
      if (this.queue.length > 0) {
        const msg = this.queue[0];
        this.discard(); // anything after the first message
        return msg;
      }
      if (this.ended) {
        this.finish(GrpcCode.Internal, "grpc: the client sent no request message");
        return undefined;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  /** Request payloads as they arrive; ends at the client's half-close or when the call ends. */
  requests(): AsyncIterable<Uint8Array> {
    // deno-lint-ignore no-this-alias
    const call = this;
    async function* iterate() {
      try {
        for (;;) {
          if (call.done) return;
          if (call.queue.length > 0) {
            const next = call.queue.shift()!;
            if (call.queue.length < READ_AHEAD / 2 && call.stream.isPaused) call.stream.resume();
            yield next;
          } else if (call.ended) return;
          else await new Promise<void>((r) => (call.wake = r));
        }
      } finally {
        // Keep reading (and discarding) once nobody wants the requests, so that the stream
        // can close when the client is done even if the handler stopped iterating.
        call.discard();
      }
    }
    return { [Symbol.asyncIterator]: iterate };
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private discard(): void {
    this.discarding = true;
    this.queue = [];
    if (this.stream.isPaused) this.stream.resume();
  }

  /** Writes one response; resolves once HTTP/2 flow control has room for more. */
  async send(payload: Uint8Array): Promise<void> {
    while (this.drained) await this.drained;
    if (this.done) throw this.abort.signal.reason ?? new EtcdError(GrpcCode.Canceled, "canceled");
    if (payload.length > this.opts.maxSendMessageSize) {
      throw new EtcdError(
        GrpcCode.ResourceExhausted,
        `grpc: trying to send message larger than max (${payload.length} vs. ${this.opts.maxSendMessageSize})`,
      );
    }
    this.sendHeaders();
    if (this.stream.write(frameMessage(payload))) return;
    this.drained = new Promise<void>((resolve) => (this.releaseDrain = resolve));
    await this.drained;
  }

  /** Ends the call with the status an exception maps to. */
  fail(err: unknown): void {
    const status = toEtcdError(err);
    this.finish(status.code, status.message);
  }

  /** Ends the call with a status; later sends and finishes are ignored. */
  finish(code: GrpcCode, message = ""): void {
    if (this.done) return;
    let trailers: Record<string, string> = OK_TRAILERS;
    if (code !== GrpcCode.OK || message) {
      trailers = { "grpc-status": String(code) };
      if (message) trailers["grpc-message"] = encodeGrpcMessage(message);
    }
    const stream = this.stream;
    this.stop(code === GrpcCode.OK ? undefined : new EtcdError(code, message));
    if (stream.closed) return;
    try {
      if (!this.headersSent) {
        this.headersSent = true;
        stream.respond({ ...RESPONSE_HEADERS, ...trailers }, true, false);
      } else {
        stream.end(trailers);
      }
    } catch {
      // The client went away between the check and the write: nothing left to tell it.
    }
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.stream.respond(RESPONSE_HEADERS, false, true);
  }

  private stop(reason: unknown): void {
    this.done = true;
    clearTimeout(this.timer);
    // Like Go's per-RPC context, the signal also fires when the call ends normally, so that
    // work started on behalf of the call (watch pumps, keep-alive loops) winds down.
    this.abort.abort(reason ?? CALL_ENDED);
    this.discard();
    this.notify();
    this.onDrain(); // a sender waiting for room wakes up and sees the call is over
    this.onStatus?.(reason instanceof EtcdError ? reason.code : GrpcCode.OK);
  }
}
