// One gRPC call on one HTTP/2 stream: reads length-prefixed requests, writes responses with
// back-pressure, and ends with grpc-status/grpc-message trailers (or a trailers-only response
// when nothing was sent yet). Cancellation, deadlines and lost connections abort ctx.signal.

import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { EtcdError, GrpcCode } from "../../server/errors.ts";
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

interface Peer {
  address: string;
  tls?: TLSSocket;
}

// Per connection, not per call: the session's socket is a proxy whose property reads are slow.
const peers = new WeakMap<object, Peer>();

function peerOf(stream: ServerHttp2Stream): Peer {
  const session = stream.session;
  if (!session) return { address: "" };
  let peer = peers.get(session);
  if (!peer) {
    const socket = session.socket;
    const host = socket.remoteAddress ?? "";
    peer = {
      address: `${host.includes(":") ? `[${host}]` : host}:${socket.remotePort ?? 0}`,
      tls: (socket as TLSSocket).encrypted ? socket as TLSSocket : undefined,
    };
    peers.set(session, peer);
  }
  return peer;
}

// Requests buffered ahead of a slow handler before the stream stops reading.
const READ_AHEAD = 16;

export class Call {
  readonly ctx: CallContext;
  private readonly abort = new AbortController();
  private headersSent = false;
  private done = false;
  private drained: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Told once, when the call ends, the status it ended with (metrics). */
  onStatus?: (code: GrpcCode) => void;

  constructor(
    private readonly stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    private readonly opts: CallOptions,
  ) {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) {
      if (k[0] === ":" || v === undefined) continue;
      metadata[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : String(v);
    }
    const peer = peerOf(stream);
    const timeout = parseGrpcTimeout(metadata["grpc-timeout"]);
    this.ctx = {
      metadata,
      deadline: timeout === undefined ? undefined : Date.now() + timeout,
      signal: this.abort.signal,
      peer: peer.address,
      method: String(headers[":path"]),
      peerCertificate: () => {
        if (!peer.tls) return undefined;
        try {
          const cert = peer.tls.getPeerCertificate();
          return cert && Object.keys(cert).length > 0 ? cert : undefined;
        } catch {
          return undefined; // node:http2's socket proxy throws once the session is gone
        }
      },
    };
    if (timeout !== undefined) {
      this.timer = setTimeout(
        () => this.finish(GrpcCode.DeadlineExceeded, "context deadline exceeded"),
        timeout,
      );
    }
    // Client cancel (RST_STREAM) and connection loss both surface as "close" before we finish.
    stream.once("close", () => {
      if (!this.done) this.stop(new EtcdError(GrpcCode.Canceled, "context canceled"));
    });
    stream.on("error", () => {});
  }

  get finished(): boolean {
    return this.done;
  }

  /**
   * The first request message of a unary or server-streaming call; undefined when the call
   * ended first (cancelled, or failed here: bad framing, no message, too large).
   */
  firstRequest(): Promise<Uint8Array | undefined> {
    const stream = this.stream;
    const deframer = new Deframer(this.opts.maxReceiveMessageSize);
    return new Promise((resolve) => {
      const settle = (msg: Uint8Array | undefined) => {
        stream.off("data", onData);
        stream.off("end", onEnd);
        this.abort.signal.removeEventListener("abort", onAbort);
        stream.resume(); // discard anything after the first message
        resolve(msg);
      };
      const onData = (chunk: Uint8Array) => {
        try {
          const msgs = deframer.push(chunk);
          if (msgs.length > 0) settle(msgs[0]);
        } catch (err) {
          this.fail(err);
          settle(undefined);
        }
      };
      const onEnd = () => {
        this.finish(
          GrpcCode.Internal,
          deframer.pending > 0
            ? "grpc: request body ended inside a message"
            : "grpc: the client sent no request message",
        );
        settle(undefined);
      };
      const onAbort = () => settle(undefined);
      stream.on("data", onData);
      stream.once("end", onEnd);
      this.abort.signal.addEventListener("abort", onAbort);
    });
  }

  /** Request payloads as they arrive; ends at the client's half-close or when the call ends. */
  requests(): AsyncIterable<Uint8Array> {
    const queue: Uint8Array[] = [];
    let ended = false;
    let wake: (() => void) | undefined;
    const deframer = new Deframer(this.opts.maxReceiveMessageSize);
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const onData = (chunk: Uint8Array) => {
      try {
        queue.push(...deframer.push(chunk));
      } catch (err) {
        this.fail(err);
        return;
      }
      if (queue.length >= READ_AHEAD) this.stream.pause();
      notify();
    };
    const onEnd = () => {
      ended = true;
      if (deframer.pending > 0) {
        this.finish(GrpcCode.Internal, "grpc: request body ended inside a message");
      }
      notify();
    };
    const stream = this.stream;
    // Keep reading (and discarding) once nobody wants the requests, so that the stream can
    // close when the client is done even if the handler never iterated.
    const detach = () => {
      stream.off("data", onData);
      stream.resume();
    };
    stream.on("data", onData);
    stream.once("end", onEnd);
    this.abort.signal.addEventListener("abort", () => {
      detach();
      notify();
    }, { once: true });
    const isDone = () => this.done;
    async function* iterate() {
      try {
        for (;;) {
          if (isDone()) return;
          if (queue.length > 0) {
            const next = queue.shift()!;
            if (queue.length < READ_AHEAD / 2 && stream.isPaused()) stream.resume();
            yield next;
          } else if (ended) return;
          else await new Promise<void>((r) => (wake = r));
        }
      } finally {
        detach();
      }
    }
    return { [Symbol.asyncIterator]: iterate };
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
    this.drained = new Promise<void>((resolve) => {
      const release = () => {
        this.stream.off("drain", release);
        this.abort.signal.removeEventListener("abort", release);
        this.drained = undefined;
        resolve();
      };
      this.stream.on("drain", release);
      this.abort.signal.addEventListener("abort", release);
    });
    await this.drained;
  }

  /** Ends the call with the status an exception maps to. */
  fail(err: unknown): void {
    if (err instanceof EtcdError) this.finish(err.code, err.message);
    else this.finish(GrpcCode.Unknown, err instanceof Error ? err.message : String(err));
  }

  /** Ends the call with a status; later sends and finishes are ignored. */
  finish(code: GrpcCode, message = ""): void {
    if (this.done) return;
    const trailers: Record<string, string> = { "grpc-status": String(code) };
    if (message) trailers["grpc-message"] = encodeGrpcMessage(message);
    const stream = this.stream;
    this.stop(code === GrpcCode.OK ? undefined : new EtcdError(code, message));
    if (stream.destroyed || stream.closed) return;
    try {
      if (!this.headersSent) {
        this.headersSent = true;
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", ...trailers },
          { endStream: true },
        );
      } else {
        stream.once("wantTrailers", () => stream.sendTrailers(trailers));
        stream.end();
      }
    } catch {
      // The client went away between the check and the write: nothing left to tell it.
    }
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.stream.respond(
      { ":status": 200, "content-type": "application/grpc" },
      { waitForTrailers: true },
    );
  }

  private stop(reason: unknown): void {
    this.done = true;
    clearTimeout(this.timer);
    // Like Go's per-RPC context, the signal also fires when the call ends normally, so that
    // work started on behalf of the call (watch pumps, keep-alive loops) winds down.
    this.abort.abort(reason ?? new EtcdError(GrpcCode.Canceled, "context canceled"));
    this.onStatus?.(reason instanceof EtcdError ? reason.code : GrpcCode.OK);
  }
}
