// A lean HTTP/2 client connection on a node:net or node:tls (ALPN h2) socket: preface, SETTINGS,
// odd stream ids, flow control both ways, PING, GOAWAY, and many concurrent streams (queued
// beyond the peer's SETTINGS_MAX_CONCURRENT_STREAMS). The gRPC proxy's upstream connections, the
// tests' and the bench's client. Uses only node: modules so it runs under Node as well as Deno.
// This file handles the frames the server sends and the life of the connection; dialing
// (client_connect.ts), a request's stream (client_stream.ts), the request side (client_send.ts)
// and the response side (client_receive.ts) are their own jobs.

import type * as net from "node:net";
import type * as tls from "node:tls";
import { ErrorCode, errorCodeName, H2Error } from "./errors.ts";
import { CONNECTION_PREFACE, type Frame, FrameType, type GoawayFrame } from "./frame.ts";
import { FrameParser } from "./frame_parser.ts";
import { FrameWriter } from "./writer.ts";
import { HeaderBlocks } from "./header_block.ts";
import type { HeaderList } from "./hpack.ts";
import { HpackDecoder } from "./hpack_decoder.ts";
import { ReceiveWindow } from "./flow.ts";
import { ResponseReceiver } from "./client_receive.ts";
import { RequestSender } from "./client_send.ts";
import { ClientStream, type StreamHandler } from "./client_stream.ts";
import { applySettings, DEFAULT_SETTINGS, type Settings, settingsPairs } from "./settings.ts";

export interface ClientOptions {
  host: string;
  port: number;
  /** Connect with TLS (ALPN h2); an object adds node:tls options (ca, cert, key, ...). */
  tls?: boolean | tls.ConnectionOptions;
  /** :authority of requests; default host:port. */
  authority?: string;
  /** Settings we advertise; push is always disabled. */
  settings?: Partial<Settings>;
  /** Connection-level receive window. Default 16 MiB. */
  connectionWindowSize?: number;
  /** Give up connecting after this long. Default 10 s. */
  connectTimeoutMs?: number;
}

const DEFAULT_LOCAL: Partial<Settings> = {
  enablePush: false,
  initialWindowSize: 4 * 1024 * 1024,
  maxHeaderListSize: 64 * 1024,
};

export class ClientConnection {
  readonly authority: string;
  readonly ready: Promise<void>;
  /** Resolves when the socket is gone, with the error that ended it, if any. */
  readonly closed: Promise<Error | undefined>;
  /** Called when the server announces shutdown. */
  onGoaway?: (frame: GoawayFrame) => void;

  remoteSettings: Settings = { ...DEFAULT_SETTINGS };
  private readonly localSettings: Settings;
  private readonly writer: FrameWriter;
  private readonly parser: FrameParser;
  private readonly streams = new Map<number, ClientStream>();
  private readonly waiting: ClientStream[] = [];
  private readonly sender: RequestSender;
  private readonly receiver: ResponseReceiver;
  private gotSettings = false;
  private goawayId = -1; // last stream id the server will process, after a GOAWAY
  private closing = false;
  private dead: Error | undefined | null = null; // null while alive
  // No cap on a raw block; decoding enforces the header list size we advertise.
  private readonly headerBlocks = new HeaderBlocks(
    Infinity,
    (f, b) => this.receiver.onHeaderBlock(f, b),
  );
  private readonly pings = new Map<bigint, () => void>();
  private pingCount = 0n;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  private resolveClosed!: (e: Error | undefined) => void;

  constructor(private readonly socket: net.Socket, opts: ClientOptions) {
    this.authority = opts.authority ?? `${opts.host}:${opts.port}`;
    this.localSettings = { ...DEFAULT_SETTINGS, ...DEFAULT_LOCAL, ...opts.settings };
    this.localSettings.enablePush = false;
    const decoder = new HpackDecoder({
      maxTableSize: this.localSettings.headerTableSize,
      maxHeaderListSize: this.localSettings.maxHeaderListSize,
    });
    this.parser = new FrameParser({ maxFrameSize: this.localSettings.maxFrameSize });
    const connWindow = opts.connectionWindowSize ?? 16 * 1024 * 1024;
    const connRecv = new ReceiveWindow(DEFAULT_SETTINGS.initialWindowSize, connWindow);
    this.ready = new Promise((res, rej) => {
      this.resolveReady = res;
      this.rejectReady = rej;
    });
    this.ready.catch(() => {});
    this.closed = new Promise((res) => this.resolveClosed = res);

    socket.setNoDelay(true);
    this.writer = new FrameWriter((chunk) => {
      if (!socket.destroyed) socket.write(chunk);
    });
    this.sender = new RequestSender(this.writer, {
      remoteSettings: () => this.remoteSettings,
      localSettings: this.localSettings,
      streams: this.streams,
      finishStream: (s) => this.finishStream(s),
    });
    this.receiver = new ResponseReceiver(this.writer, decoder, connRecv, {
      streams: this.streams,
      checkNotIdle: (id) => this.sender.checkNotIdle(id),
      finishStream: (s) => this.finishStream(s),
    });
    this.writer.raw(CONNECTION_PREFACE);
    this.writer.frame({
      type: FrameType.SETTINGS,
      ack: false,
      settings: settingsPairs(this.localSettings),
    });
    const inc = connRecv.grow();
    if (inc > 0) this.writer.windowUpdate(0, inc);
    this.writer.flush();

    socket.on("data", (chunk: Uint8Array) => {
      try {
        this.parser.push(chunk, (f) => this.onFrame(f), (e) => this.streamError(e));
      } catch (err) {
        this.connectionError(err);
      }
    });
    socket.on("error", (err: Error) => this.teardown(err));
    socket.on("close", () => this.teardown(new Error("connection closed")));
  }

  /** Streams open or waiting for a slot. */
  get activeStreams(): number {
    return this.streams.size + this.waiting.length;
  }

  get isClosed(): boolean {
    return this.dead !== null;
  }

  /**
   * Starts a request. With `body`, it is sent after the headers; `endStream` (default true)
   * half-closes our side after it, else keep writing with stream.write().
   */
  request(
    headers: HeaderList,
    handler: StreamHandler,
    body?: Uint8Array,
    endStream = true,
  ): ClientStream {
    const stream = new ClientStream(this, headers, handler);
    if (body && body.length > 0) stream.outbox.push(body);
    stream.outboxEnd = endStream;
    if (this.dead !== null) {
      stream.closed = true;
      handler.onClose(this.dead ?? new Error("connection closed"));
    } else if (this.closing || this.goawayId >= 0) {
      stream.closed = true;
      handler.onClose(new H2Error(ErrorCode.REFUSED_STREAM, "connection is going away"));
    } else if (this.streams.size < this.remoteSettings.maxConcurrentStreams) {
      this.sender.open(stream);
    } else {
      this.waiting.push(stream);
    }
    return stream;
  }

  /** Round-trip time of a PING, in milliseconds. */
  ping(): Promise<number> {
    const id = ++this.pingCount;
    const data = new Uint8Array(8);
    new DataView(data.buffer).setBigUint64(0, id);
    const start = performance.now();
    return new Promise((resolve, reject) => {
      if (this.dead !== null) return reject(this.dead ?? new Error("connection closed"));
      this.pings.set(id, () => resolve(performance.now() - start));
      this.writer.frame({ type: FrameType.PING, ack: false, opaqueData: data });
    });
  }

  /** Graceful close: GOAWAY, let open streams finish, then end the socket. */
  close(): Promise<Error | undefined> {
    if (this.dead === null && !this.closing) {
      this.closing = true;
      this.writer.frame({
        type: FrameType.GOAWAY,
        lastStreamId: 0,
        errorCode: ErrorCode.NO_ERROR,
        debugData: new Uint8Array(0),
      });
      this.maybeFinish();
    }
    return this.closed;
  }

  /** Abrupt close: every stream fails with `err`. */
  destroy(err: Error = new Error("connection destroyed")): void {
    this.writer.flush();
    this.teardown(err);
  }

  flushStream(s: ClientStream): void {
    this.sender.flushStream(s);
  }

  resetStream(s: ClientStream, code: number, err: Error): void {
    if (s.closed) return;
    if (s.id !== 0) this.writer.rstStream(s.id, code);
    else {
      const i = this.waiting.indexOf(s);
      if (i >= 0) this.waiting.splice(i, 1);
    }
    this.finishStream(s, err);
  }

  private onFrame(f: Frame) {
    this.headerBlocks.checkInterleaved(f.type);
    if (!this.gotSettings && (f.type !== FrameType.SETTINGS || f.ack)) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, "server preface does not start with SETTINGS");
    }
    switch (f.type) {
      case FrameType.DATA:
        return this.receiver.onData(f);
      case FrameType.HEADERS:
      case FrameType.CONTINUATION:
        return this.headerBlocks.receive(f);
      case FrameType.SETTINGS:
        return this.onSettings(f.ack, f.settings);
      case FrameType.PING:
        if (!f.ack) {
          this.writer.frame({ type: FrameType.PING, ack: true, opaqueData: f.opaqueData.slice() });
        } else {
          const id = new DataView(f.opaqueData.buffer, f.opaqueData.byteOffset, 8).getBigUint64(0);
          this.pings.get(id)?.();
          this.pings.delete(id);
        }
        return;
      case FrameType.GOAWAY:
        return this.onGoawayFrame(f);
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(f.streamId, f.increment);
      case FrameType.RST_STREAM: {
        this.sender.checkNotIdle(f.streamId);
        const s = this.streams.get(f.streamId);
        if (s) {
          const err = new H2Error(
            f.errorCode,
            `stream reset by server: ${errorCodeName(f.errorCode)}`,
            f.streamId,
          );
          this.finishStream(s, err);
        }
        return;
      }
      case FrameType.PUSH_PROMISE:
        throw new H2Error(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE although push is disabled");
      case FrameType.PRIORITY:
      case FrameType.UNKNOWN:
        return;
    }
  }

  private onSettings(ack: boolean, pairs: [number, number][]) {
    if (ack) {
      this.receiver.decoder.setMaxTableSize(this.localSettings.headerTableSize);
      return;
    }
    const prev = this.remoteSettings;
    const next = applySettings(prev, pairs);
    this.remoteSettings = next;
    if (next.headerTableSize !== prev.headerTableSize) {
      this.sender.encoder.setPeerMaxTableSize(next.headerTableSize);
    }
    const delta = next.initialWindowSize - prev.initialWindowSize;
    if (delta !== 0) { for (const s of this.streams.values()) s.sendWindow.adjust(delta); }
    this.writer.frame({ type: FrameType.SETTINGS, ack: true, settings: [] });
    if (!this.gotSettings) {
      this.gotSettings = true;
      this.resolveReady();
    }
    this.openWaiting();
    if (delta > 0) this.sender.flushBlocked();
  }

  private onWindowUpdate(streamId: number, increment: number) {
    if (streamId === 0) {
      this.sender.connSend.increase(increment);
      this.sender.flushBlocked();
      return;
    }
    this.sender.checkNotIdle(streamId);
    const s = this.streams.get(streamId);
    if (!s) return;
    s.sendWindow.increase(increment);
    if (s.outbox.length > 0) this.flushStream(s);
  }

  private onGoawayFrame(f: GoawayFrame) {
    this.goawayId = this.goawayId < 0 ? f.lastStreamId : Math.min(this.goawayId, f.lastStreamId);
    const why = `server sent GOAWAY (${errorCodeName(f.errorCode)})`;
    for (const s of [...this.streams.values()]) {
      if (s.id > this.goawayId) {
        this.finishStream(s, new H2Error(ErrorCode.REFUSED_STREAM, `${why}; not processed`));
      }
    }
    for (const s of this.waiting.splice(0)) {
      s.closed = true;
      s.handler.onClose(new H2Error(ErrorCode.REFUSED_STREAM, `${why}; not processed`));
    }
    this.onGoaway?.(f);
    this.maybeFinish();
  }

  private finishStream(s: ClientStream, err?: Error) {
    if (s.closed) return;
    s.closed = true;
    this.streams.delete(s.id);
    this.sender.forget(s);
    s.handler.onClose(err);
    this.openWaiting();
    this.maybeFinish();
  }

  private openWaiting() {
    while (
      this.waiting.length > 0 && this.streams.size < this.remoteSettings.maxConcurrentStreams &&
      this.dead === null
    ) {
      this.sender.open(this.waiting.shift()!);
    }
  }

  private maybeFinish() {
    if ((this.closing || this.goawayId >= 0) && this.activeStreams === 0 && this.dead === null) {
      this.writer.flush();
      this.socket.end();
    }
  }

  private streamError(err: H2Error) {
    const s = this.streams.get(err.streamId);
    if (s) this.resetStream(s, err.code, err);
    else this.writer.rstStream(err.streamId, err.code);
  }

  private connectionError(err: unknown) {
    const h2 = err instanceof H2Error
      ? err
      : new H2Error(ErrorCode.INTERNAL_ERROR, String((err as Error)?.message ?? err));
    this.writer.frame({
      type: FrameType.GOAWAY,
      lastStreamId: 0,
      errorCode: h2.code,
      debugData: new TextEncoder().encode(h2.message),
    });
    this.writer.flush();
    this.socket.end();
    this.teardown(h2);
  }

  private teardown(err: Error) {
    if (this.dead !== null) return;
    this.dead = err;
    if (!this.gotSettings) this.rejectReady(err);
    for (const s of [...this.streams.values()]) this.finishStream(s, err);
    for (const s of this.waiting.splice(0)) {
      s.closed = true;
      s.handler.onClose(err);
    }
    this.pings.clear();
    this.socket.destroy();
    this.resolveClosed(this.closing || this.goawayId >= 0 ? undefined : err);
  }
}
