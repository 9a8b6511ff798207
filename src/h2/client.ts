// A lean HTTP/2 client connection on a node:net or node:tls (ALPN h2) socket: preface, SETTINGS,
// odd stream ids, flow control both ways, PING, GOAWAY, and many concurrent streams (queued
// beyond the peer's SETTINGS_MAX_CONCURRENT_STREAMS). The gRPC proxy's upstream connections, the
// tests' and the bench's client. Uses only node: modules so it runs under Node as well as Deno.

import * as net from "node:net";
import * as tls from "node:tls";
import { ErrorCode, errorCodeName, H2Error, HeaderListSizeError } from "./errors.ts";
import {
  CONNECTION_PREFACE,
  type DataFrame,
  flowControlledLength,
  type Frame,
  FrameType,
  type GoawayFrame,
  type HeadersFrame,
} from "./frame.ts";
import { FrameParser } from "./frame_parser.ts";
import { FrameWriter } from "./writer.ts";
import { HeaderBlocks } from "./header_block.ts";
import type { HeaderList } from "./hpack.ts";
import { HpackDecoder } from "./hpack_decoder.ts";
import { HpackEncoder } from "./hpack_encoder.ts";
import { ReceiveWindow, SendWindow } from "./flow.ts";
import { applySettings, DEFAULT_SETTINGS, type Settings, settingsPairs } from "./settings.ts";

/** What a stream's owner is told; each stream gets exactly one onClose. */
export interface StreamHandler {
  /** Response headers, then (with endStream) trailers; informational 1xx blocks are skipped. */
  onHeaders(headers: HeaderList, endStream: boolean): void;
  onData(data: Uint8Array, endStream: boolean): void;
  /** The stream is over: undefined after both sides ended it, else why it failed. */
  onClose(error?: Error): void;
}

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

/** Opens a connection and resolves once the server's SETTINGS have arrived. */
export function connect(opts: ClientOptions): Promise<ClientConnection> {
  return new Promise((resolve, reject) => {
    let socket: net.Socket;
    const onError = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => onError(new Error(`connect to ${opts.host}:${opts.port} timed out`)),
      opts.connectTimeoutMs ?? 10_000,
    );
    const start = () => {
      socket.off("error", onError);
      clearTimeout(timer);
      const conn = new ClientConnection(socket, opts);
      conn.ready.then(() => resolve(conn), reject);
    };
    if (opts.tls) {
      const extra = typeof opts.tls === "object" ? opts.tls : {};
      socket = tls.connect({
        servername: net.isIP(opts.host) ? undefined : opts.host,
        ...extra,
        host: opts.host,
        port: opts.port,
        ALPNProtocols: ["h2"],
      });
      socket.once("secureConnect", () => {
        if ((socket as tls.TLSSocket).alpnProtocol !== "h2") {
          onError(new Error(`${opts.host}:${opts.port} did not negotiate h2 via ALPN`));
        } else start();
      });
    } else {
      socket = net.connect({ host: opts.host, port: opts.port });
      socket.once("connect", start);
    }
    socket.once("error", onError);
  });
}

export class ClientStream {
  id = 0;
  /** We sent END_STREAM (or will, once queued data drains). */
  localEnded = false;
  remoteEnded = false;
  sawHeaders = false;
  closed = false;
  sendWindow!: SendWindow;
  recvWindow!: ReceiveWindow;
  /** Data waiting for window (or for the stream to open); an empty chunk carries END_STREAM. */
  outbox: Uint8Array[] = [];
  outboxEnd = false;

  constructor(
    private readonly conn: ClientConnection,
    readonly headers: HeaderList,
    readonly handler: StreamHandler,
  ) {}

  /** Queues body bytes; `endStream` half-closes our side. */
  write(data: Uint8Array, endStream = false): void {
    if (this.outboxEnd || this.closed) throw new Error("write after end of stream");
    if (data.length > 0) this.outbox.push(data);
    if (endStream) this.outboxEnd = true;
    if (this.id !== 0) this.conn.flushStream(this);
  }

  /** Abandons the stream (RST_STREAM, default CANCEL). */
  reset(code: number = ErrorCode.CANCEL): void {
    this.conn.resetStream(this, code, new H2Error(code, `stream reset: ${errorCodeName(code)}`));
  }
}

export class ClientConnection {
  readonly authority: string;
  readonly ready: Promise<void>;
  /** Resolves when the socket is gone, with the error that ended it, if any. */
  readonly closed: Promise<Error | undefined>;
  /** Called when the server announces shutdown. */
  onGoaway?: (frame: GoawayFrame) => void;

  remoteSettings: Settings = { ...DEFAULT_SETTINGS };
  private localSettings: Settings;
  private readonly writer: FrameWriter;
  private readonly parser: FrameParser;
  private readonly encoder = new HpackEncoder();
  private readonly decoder: HpackDecoder;
  private readonly connSend = new SendWindow(DEFAULT_SETTINGS.initialWindowSize);
  private readonly connRecv: ReceiveWindow;
  private readonly streams = new Map<number, ClientStream>();
  private readonly waiting: ClientStream[] = [];
  private readonly blocked = new Set<ClientStream>();
  private nextStreamId = 1;
  private gotSettings = false;
  private goawayId = -1; // last stream id the server will process, after a GOAWAY
  private closing = false;
  private dead: Error | undefined | null = null; // null while alive
  // No cap on a raw block; decoding enforces the header list size we advertise.
  private readonly headerBlocks = new HeaderBlocks(Infinity, (f, b) => this.onHeaderBlock(f, b));
  private readonly pings = new Map<bigint, () => void>();
  private pingCount = 0n;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;
  private resolveClosed!: (e: Error | undefined) => void;

  constructor(private readonly socket: net.Socket, opts: ClientOptions) {
    this.authority = opts.authority ?? `${opts.host}:${opts.port}`;
    this.localSettings = { ...DEFAULT_SETTINGS, ...DEFAULT_LOCAL, ...opts.settings };
    this.localSettings.enablePush = false;
    this.decoder = new HpackDecoder({
      maxTableSize: this.localSettings.headerTableSize,
      maxHeaderListSize: this.localSettings.maxHeaderListSize,
    });
    this.parser = new FrameParser({ maxFrameSize: this.localSettings.maxFrameSize });
    const connWindow = opts.connectionWindowSize ?? 16 * 1024 * 1024;
    this.connRecv = new ReceiveWindow(DEFAULT_SETTINGS.initialWindowSize, connWindow);
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
    this.writer.raw(CONNECTION_PREFACE);
    this.writer.frame({
      type: FrameType.SETTINGS,
      ack: false,
      settings: settingsPairs(this.localSettings),
    });
    const inc = this.connRecv.grow();
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
      this.open(stream);
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
    if (s.closed || s.localEnded) return;
    const maxFrame = this.remoteSettings.maxFrameSize;
    while (s.outbox.length > 0) {
      const chunk = s.outbox[0];
      const allowed = Math.min(this.connSend.size, s.sendWindow.size, maxFrame);
      if (allowed <= 0) {
        this.blocked.add(s);
        return;
      }
      const n = Math.min(allowed, chunk.length);
      const end = n === chunk.length && s.outbox.length === 1 && s.outboxEnd;
      this.writer.data(s.id, n === chunk.length ? chunk : chunk.subarray(0, n), end);
      this.connSend.consume(n);
      s.sendWindow.consume(n);
      if (n === chunk.length) s.outbox.shift();
      else s.outbox[0] = chunk.subarray(n);
      if (end) s.localEnded = true;
    }
    this.blocked.delete(s);
    if (s.outboxEnd && !s.localEnded) {
      this.writer.data(s.id, EMPTY, true); // END_STREAM owed after data already sent
      s.localEnded = true;
    }
    if (s.localEnded && s.remoteEnded) this.finishStream(s);
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

  private open(s: ClientStream) {
    if (this.nextStreamId > 0x7fffffff) {
      s.closed = true;
      s.handler.onClose(new H2Error(ErrorCode.REFUSED_STREAM, "stream ids exhausted"));
      return;
    }
    s.id = this.nextStreamId;
    this.nextStreamId += 2;
    s.sendWindow = new SendWindow(this.remoteSettings.initialWindowSize, s.id);
    s.recvWindow = new ReceiveWindow(
      this.localSettings.initialWindowSize,
      this.localSettings.initialWindowSize,
      s.id,
    );
    this.streams.set(s.id, s);
    const block = this.encoder.encode(s.headers);
    const endWithHeaders = s.outboxEnd && s.outbox.length === 0;
    this.writer.headers(s.id, block, endWithHeaders, this.remoteSettings.maxFrameSize);
    if (endWithHeaders) {
      s.localEnded = true;
    } else {
      this.flushStream(s);
    }
  }

  private onFrame(f: Frame) {
    this.headerBlocks.checkInterleaved(f.type);
    if (!this.gotSettings && (f.type !== FrameType.SETTINGS || f.ack)) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, "server preface does not start with SETTINGS");
    }
    switch (f.type) {
      case FrameType.DATA:
        return this.onData(f);
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
        this.checkNotIdle(f.streamId);
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
      this.decoder.setMaxTableSize(this.localSettings.headerTableSize);
      return;
    }
    const prev = this.remoteSettings;
    const next = applySettings(prev, pairs);
    this.remoteSettings = next;
    if (next.headerTableSize !== prev.headerTableSize) {
      this.encoder.setPeerMaxTableSize(next.headerTableSize);
    }
    const delta = next.initialWindowSize - prev.initialWindowSize;
    if (delta !== 0) { for (const s of this.streams.values()) s.sendWindow.adjust(delta); }
    this.writer.frame({ type: FrameType.SETTINGS, ack: true, settings: [] });
    if (!this.gotSettings) {
      this.gotSettings = true;
      this.resolveReady();
    }
    this.openWaiting();
    if (delta > 0) this.flushBlocked();
  }

  private onWindowUpdate(streamId: number, increment: number) {
    if (streamId === 0) {
      this.connSend.increase(increment);
      this.flushBlocked();
      return;
    }
    this.checkNotIdle(streamId);
    const s = this.streams.get(streamId);
    if (!s) return;
    s.sendWindow.increase(increment);
    if (s.outbox.length > 0) this.flushStream(s);
  }

  private onData(f: DataFrame) {
    const len = flowControlledLength(f);
    this.connRecv.consume(len);
    const s = this.streams.get(f.streamId);
    if (!s) {
      this.checkNotIdle(f.streamId);
      this.releaseConnection(len); // a stream we already closed: its bytes still count
      return;
    }
    if (!s.sawHeaders || s.remoteEnded) {
      this.releaseConnection(len);
      const msg = s.remoteEnded ? "DATA after END_STREAM" : "DATA before HEADERS";
      throw new H2Error(
        s.remoteEnded ? ErrorCode.STREAM_CLOSED : ErrorCode.PROTOCOL_ERROR,
        msg,
        f.streamId,
      );
    }
    s.recvWindow.consume(len);
    this.releaseConnection(len);
    if (f.endStream) s.remoteEnded = true;
    else {
      const inc = s.recvWindow.release(len);
      if (inc > 0) this.writer.windowUpdate(s.id, inc);
    }
    s.handler.onData(f.data, f.endStream);
    if (f.endStream) this.remoteEnd(s);
  }

  private onHeaderBlock(f: HeadersFrame, block: Uint8Array) {
    let headers: HeaderList;
    try {
      headers = this.decoder.decode(block); // always decode: the HPACK state is shared
    } catch (err) {
      if (err instanceof HeaderListSizeError) {
        throw new H2Error(ErrorCode.PROTOCOL_ERROR, err.message, f.streamId);
      }
      throw err;
    }
    const s = this.streams.get(f.streamId);
    if (!s) {
      this.checkNotIdle(f.streamId);
      return;
    }
    if (s.remoteEnded) {
      throw new H2Error(ErrorCode.STREAM_CLOSED, "HEADERS after END_STREAM", f.streamId);
    }
    if (!s.sawHeaders && !f.endStream && isInformational(headers)) return;
    s.sawHeaders = true;
    if (f.endStream) s.remoteEnded = true;
    s.handler.onHeaders(headers, f.endStream);
    if (f.endStream) this.remoteEnd(s);
  }

  private remoteEnd(s: ClientStream) {
    if (s.localEnded) this.finishStream(s);
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

  /** Frames for stream ids we never opened are a connection error (§5.1). */
  private checkNotIdle(id: number) {
    if (id % 2 === 0 || id >= this.nextStreamId) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, `frame on idle stream ${id}`);
    }
  }

  private releaseConnection(n: number) {
    const inc = this.connRecv.release(n);
    if (inc > 0) this.writer.windowUpdate(0, inc);
  }

  private finishStream(s: ClientStream, err?: Error) {
    if (s.closed) return;
    s.closed = true;
    this.streams.delete(s.id);
    this.blocked.delete(s);
    s.handler.onClose(err);
    this.openWaiting();
    this.maybeFinish();
  }

  private openWaiting() {
    while (
      this.waiting.length > 0 && this.streams.size < this.remoteSettings.maxConcurrentStreams &&
      this.dead === null
    ) {
      this.open(this.waiting.shift()!);
    }
  }

  private flushBlocked() {
    for (const s of [...this.blocked]) {
      if (this.connSend.size <= 0) return;
      this.flushStream(s);
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

const EMPTY = new Uint8Array(0);

function isInformational(headers: HeaderList): boolean {
  for (const [name, value] of headers) if (name === ":status") return value.startsWith("1");
  return false;
}
