// A lean HTTP/2 server connection (RFC 9113) on a node:net or node:tls socket whose next bytes
// are the client preface: SETTINGS, request streams with HPACK headers (any :authority),
// flow control both ways, PING, RST_STREAM, GOAWAY, SETTINGS_MAX_CONCURRENT_STREAMS and size
// limits. Protocol violations end the offending stream (RST_STREAM) or the connection (GOAWAY);
// nothing a client sends can throw out of here. Frames written in one event-loop turn leave in
// one socket write (FrameWriter).

import type * as net from "node:net";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { ErrorCode, H2Error, HeaderListSizeError } from "./errors.ts";
import { ReceiveWindow, SendWindow } from "./flow.ts";
import {
  type DataFrame,
  DEFAULT_MAX_FRAME_SIZE,
  flowControlledLength,
  type Frame,
  FrameType,
  type HeadersFrame,
} from "./frame.ts";
import { FrameParser } from "./frame_parser.ts";
import type { HeaderList } from "./hpack.ts";
import { HpackDecoder } from "./hpack_decoder.ts";
import { HpackEncoder } from "./hpack_encoder.ts";
import { applySettings, DEFAULT_SETTINGS, SettingId, type Settings } from "./settings.ts";
import { FrameWriter } from "./writer.ts";
import { H2ServerStream, type StreamHost } from "./server_request.ts";
import { requestHeaders, responseHeaderList } from "./server_headers.ts";
import { HeaderBlock } from "./header_block.ts";
import { RecentResets, ResetRate } from "./server_limits.ts";
import type { OutgoingHeaders } from "./server_stream.ts";

export interface ServerConnectionOptions {
  /** Called for each new request stream, synchronously after its headers arrived. */
  onStream(stream: H2ServerStream): void;
  /** SETTINGS_MAX_CONCURRENT_STREAMS; streams beyond it are refused. Default 2^32-1. */
  maxConcurrentStreams?: number;
  /** Our per-stream receive window. Default 1 MiB. */
  initialWindowSize?: number;
  /** Our connection receive window. Default 16 MiB. */
  connectionWindowSize?: number;
  /** SETTINGS_MAX_FRAME_SIZE we accept. Default 16 KiB. */
  maxFrameSize?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE (decoded size, RFC 7541 §4.1). Default 64 KiB. */
  maxHeaderListSize?: number;
}

/** Bytes waiting in the socket beyond which a client that does not read is dropped. */
const MAX_SOCKET_BACKLOG = 16 * 1024 * 1024;
/** How long a closing connection may take to flush its GOAWAY before the socket is destroyed. */
const CLOSE_GRACE_MS = 100;
const EMPTY = new Uint8Array(0);

export class ServerConnection implements StreamHost {
  readonly peerAddress: string;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  private readonly writer: FrameWriter;
  private readonly parser: FrameParser;
  private readonly encoder = new HpackEncoder();
  private readonly decoder: HpackDecoder;
  private readonly local: Settings;
  private remote: Settings = { ...DEFAULT_SETTINGS };
  private readonly streams = new Map<number, H2ServerStream>();
  private readonly blocked = new Set<H2ServerStream>();
  private readonly recentResets = new RecentResets();
  private readonly resetRate = new ResetRate();
  private readonly connSend = new SendWindow(DEFAULT_SETTINGS.initialWindowSize);
  private readonly connRecv: ReceiveWindow;
  private readonly maxHeaderBlock: number;
  private lastStreamId = 0;
  private goawaySent = false;
  private gotSettings = false;
  private socketBlocked = false;
  private dead = false;
  private continuing: HeaderBlock | undefined;
  private readonly tls: TLSSocket | undefined;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly socket: net.Socket, private readonly opts: ServerConnectionOptions) {
    const host = socket.remoteAddress ?? "";
    this.peerAddress = `${host.includes(":") ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
    this.tls = (socket as TLSSocket).encrypted ? socket as TLSSocket : undefined;
    this.local = {
      ...DEFAULT_SETTINGS,
      enablePush: false,
      maxConcurrentStreams: opts.maxConcurrentStreams ?? 0xffffffff,
      initialWindowSize: opts.initialWindowSize ?? 1024 * 1024,
      maxFrameSize: opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
      maxHeaderListSize: opts.maxHeaderListSize ?? 64 * 1024,
    };
    this.decoder = new HpackDecoder({ maxHeaderListSize: this.local.maxHeaderListSize });
    // A compressed block is rarely larger than what it decodes to; beyond twice the list
    // limit, a block (HEADERS plus CONTINUATIONs) is a flood, not a request.
    this.maxHeaderBlock = 2 * this.local.maxHeaderListSize;
    this.parser = new FrameParser({ maxFrameSize: this.local.maxFrameSize, expectPreface: true });
    this.connRecv = new ReceiveWindow(
      DEFAULT_SETTINGS.initialWindowSize,
      opts.connectionWindowSize ?? 16 * 1024 * 1024,
    );

    socket.setNoDelay(true);
    this.writer = new FrameWriter((chunk) => this.sink(chunk));
    this.writer.frame({
      type: FrameType.SETTINGS,
      ack: false,
      settings: [
        [SettingId.MAX_CONCURRENT_STREAMS, this.local.maxConcurrentStreams],
        [SettingId.INITIAL_WINDOW_SIZE, this.local.initialWindowSize],
        [SettingId.MAX_FRAME_SIZE, this.local.maxFrameSize],
        [SettingId.MAX_HEADER_LIST_SIZE, this.local.maxHeaderListSize],
      ],
    });
    const inc = this.connRecv.grow();
    if (inc > 0) this.writer.windowUpdate(0, inc);

    socket.on("data", (chunk: Uint8Array) => this.onBytes(chunk));
    socket.on("error", () => this.teardown());
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        clearTimeout(this.graceTimer);
        this.teardown();
        resolve();
      })
    );
  }

  /** Open streams (tests and diagnostics). */
  get activeStreams(): number {
    return this.streams.size;
  }

  /** Shutdown: GOAWAY(NO_ERROR), every stream ends, the socket closes. */
  close(): void {
    this.shutdown(ErrorCode.NO_ERROR, "");
  }

  // --- StreamHost ---

  peerCertificate(): PeerCertificate | undefined {
    if (!this.tls) return undefined;
    try {
      const cert = this.tls.getPeerCertificate();
      return cert && Object.keys(cert).length > 0 ? cert : undefined;
    } catch {
      return undefined;
    }
  }

  sendHeaders(s: H2ServerStream, headers: OutgoingHeaders, endStream: boolean): void {
    const block = this.encoder.encode(responseHeaderList(headers));
    this.writer.headers(s.id, block, endStream, this.remote.maxFrameSize);
    if (endStream) this.localEnd(s);
  }

  flushStream(s: H2ServerStream): void {
    if (s.closed || s.localEnded) return;
    const maxFrame = this.remote.maxFrameSize;
    while (s.outbox.length > 0) {
      const allowed = Math.min(this.connSend.size, s.sendWindow.size, maxFrame);
      if (allowed <= 0 || this.socketBlocked) {
        this.blocked.add(s);
        return;
      }
      const chunk = s.outbox[0];
      const n = Math.min(allowed, chunk.length);
      const last = n === chunk.length && s.outbox.length === 1 && s.endPending && !s.trailers;
      this.writer.data(s.id, n === chunk.length ? chunk : chunk.subarray(0, n), last);
      this.connSend.consume(n);
      s.sendWindow.consume(n);
      s.outboxBytes -= n;
      if (n === chunk.length) s.outbox.shift();
      else s.outbox[0] = chunk.subarray(n);
      if (last) return this.localEnd(s);
    }
    this.blocked.delete(s);
    if (s.endPending) {
      if (s.trailers) {
        const block = this.encoder.encode(responseHeaderList(s.trailers));
        this.writer.headers(s.id, block, true, this.remote.maxFrameSize);
      } else this.writer.data(s.id, EMPTY, true);
      return this.localEnd(s);
    }
    if (s.wantDrain) {
      s.wantDrain = false;
      s.events?.onDrain();
    }
  }

  resetStream(s: H2ServerStream, code: number): void {
    this.writer.rstStream(s.id, code);
    this.closeStream(s, true);
  }

  releaseStream(s: H2ServerStream, n: number): void {
    if (s.remoteEnded || s.closed) return;
    const inc = s.recvWindow.release(n);
    if (inc > 0) this.writer.windowUpdate(s.id, inc);
  }

  // --- incoming ---

  private onBytes(chunk: Uint8Array): void {
    if (this.dead) return;
    try {
      this.parser.push(chunk, (f) => this.onFrame(f), (e) => this.onStreamError(e));
    } catch (err) {
      const h2 = err instanceof H2Error
        ? err
        : new H2Error(ErrorCode.INTERNAL_ERROR, String((err as Error)?.message ?? err));
      this.shutdown(h2.code, h2.message);
    }
  }

  private onFrame(f: Frame): void {
    if (this.dead) return;
    if (this.continuing && f.type !== FrameType.CONTINUATION) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, "header block interrupted by another frame");
    }
    if (!this.gotSettings && (f.type !== FrameType.SETTINGS || f.ack)) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, "client preface does not start with SETTINGS");
    }
    switch (f.type) {
      case FrameType.DATA:
        return this.onData(f);
      case FrameType.HEADERS:
        if (f.endHeaders) return this.onHeaderBlock(f, f.headerBlock);
        this.continuing = new HeaderBlock(f, this.maxHeaderBlock);
        return;
      case FrameType.CONTINUATION: {
        const c = this.continuing;
        if (!c || c.frame.streamId !== f.streamId) {
          throw new H2Error(ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION frame");
        }
        c.add(f.headerBlock);
        if (!f.endHeaders) return;
        this.continuing = undefined;
        return this.onHeaderBlock(c.frame, c.bytes());
      }
      case FrameType.SETTINGS:
        if (!f.ack) this.onSettings(f.settings);
        return;
      case FrameType.PING:
        if (!f.ack) {
          this.writer.frame({ type: FrameType.PING, ack: true, opaqueData: f.opaqueData.slice() });
        }
        return;
      case FrameType.GOAWAY:
        // The client is leaving: it opens no more streams. Finish what is open, then close.
        this.sendGoaway(ErrorCode.NO_ERROR, "");
        if (this.streams.size === 0) this.endSocket();
        return;
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(f.streamId, f.increment);
      case FrameType.RST_STREAM: {
        this.checkNotIdle(f.streamId);
        const s = this.streams.get(f.streamId);
        if (s) {
          this.closeStream(s, true);
          this.resetRate.countOne();
        }
        return;
      }
      case FrameType.PUSH_PROMISE:
        throw new H2Error(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE from a client");
      case FrameType.PRIORITY:
      case FrameType.UNKNOWN:
        return; // priorities are advisory; unknown frame types are ignored (§5.5)
    }
  }

  private onSettings(pairs: [number, number][]): void {
    const prev = this.remote;
    const next = applySettings(prev, pairs);
    this.remote = next;
    if (next.headerTableSize !== prev.headerTableSize) {
      this.encoder.setPeerMaxTableSize(next.headerTableSize);
    }
    const delta = next.initialWindowSize - prev.initialWindowSize;
    if (delta !== 0) { for (const s of this.streams.values()) s.sendWindow.adjust(delta); }
    this.writer.frame({ type: FrameType.SETTINGS, ack: true, settings: [] });
    this.gotSettings = true;
    if (delta > 0) this.flushBlocked();
  }

  private onWindowUpdate(id: number, increment: number): void {
    if (id === 0) {
      this.connSend.increase(increment);
      this.flushBlocked();
      return;
    }
    this.checkNotIdle(id);
    const s = this.streams.get(id);
    if (!s) return; // late update for a stream that is gone
    s.sendWindow.increase(increment);
    if (s.outbox.length > 0 || s.endPending) this.flushStream(s);
  }

  private onData(f: DataFrame): void {
    const len = flowControlledLength(f);
    this.connRecv.consume(len);
    const inc = this.connRecv.release(len); // the stream windows bound what is buffered
    if (inc > 0) this.writer.windowUpdate(0, inc);
    const s = this.streams.get(f.streamId);
    if (!s) {
      this.checkNotIdle(f.streamId);
      if (this.recentResets.has(f.streamId)) return;
      throw new H2Error(ErrorCode.STREAM_CLOSED, "DATA on a closed stream", f.streamId);
    }
    if (s.remoteEnded) {
      throw new H2Error(ErrorCode.STREAM_CLOSED, "DATA after END_STREAM", f.streamId);
    }
    s.recvWindow.consume(len);
    if (len > f.data.length) this.releaseStream(s, len - f.data.length); // padding
    if (f.data.length > 0) s.receive(f.data);
    if (f.endStream) this.remoteEnd(s);
  }

  private onHeaderBlock(f: HeadersFrame, block: Uint8Array): void {
    const id = f.streamId;
    let list: HeaderList;
    try {
      list = this.decoder.decode(block); // always: the HPACK state is shared by all streams
    } catch (err) {
      if (!(err instanceof HeaderListSizeError)) throw err; // COMPRESSION_ERROR: connection
      if (!this.streams.has(id) && id % 2 === 1 && id > this.lastStreamId) this.lastStreamId = id;
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, err.message, id);
    }
    if (f.priority?.dependency === id) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, `stream ${id} depends on itself`, id);
    }
    const existing = this.streams.get(id);
    if (existing) { // trailers
      if (existing.remoteEnded) {
        throw new H2Error(ErrorCode.STREAM_CLOSED, "HEADERS after END_STREAM", id);
      }
      if (!f.endStream) {
        throw new H2Error(ErrorCode.PROTOCOL_ERROR, "trailers without END_STREAM", id);
      }
      return this.remoteEnd(existing);
    }
    if (id % 2 === 0) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, `client opened even stream ${id}`);
    }
    if (id <= this.lastStreamId) {
      if (this.recentResets.has(id)) return;
      throw new H2Error(ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
    }
    this.lastStreamId = id;
    if (this.goawaySent) { // above the GOAWAY's last stream id: ignored (§6.8)
      this.recentResets.add(id);
      return;
    }
    if (this.streams.size >= this.local.maxConcurrentStreams) {
      throw new H2Error(ErrorCode.REFUSED_STREAM, "too many concurrent streams", id);
    }
    const headers = requestHeaders(list, id);
    const s = new H2ServerStream(
      this,
      id,
      headers,
      new SendWindow(this.remote.initialWindowSize, id),
      new ReceiveWindow(this.local.initialWindowSize, this.local.initialWindowSize, id),
    );
    this.streams.set(id, s);
    if (f.endStream) s.remoteEnded = true;
    this.opts.onStream(s);
    if (f.endStream) this.remoteEnd(s);
  }

  private remoteEnd(s: H2ServerStream): void {
    s.receiveEnd();
    if (s.localEnded) this.closeStream(s, false);
  }

  private onStreamError(e: H2Error): void {
    if (this.dead) return;
    // No RST_STREAM for an idle stream (§6.4): a malformed PRIORITY there is simply dropped.
    if (e.streamId % 2 === 0 || e.streamId > this.lastStreamId) return;
    this.writer.rstStream(e.streamId, e.code);
    this.recentResets.add(e.streamId);
    const s = this.streams.get(e.streamId);
    if (s) this.closeStream(s, true);
  }

  /** Frames naming a stream the client has not opened yet are a connection error (§5.1). */
  private checkNotIdle(id: number): void {
    if (id % 2 === 0 || id > this.lastStreamId) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, `frame on idle stream ${id}`);
    }
  }

  // --- outgoing and lifecycle ---

  private localEnd(s: H2ServerStream): void {
    s.localEnded = true;
    this.blocked.delete(s);
    if (s.remoteEnded) return this.closeStream(s, false);
    // The response is complete before the request: ask the client to stop sending (§8.1).
    this.writer.rstStream(s.id, ErrorCode.NO_ERROR);
    this.closeStream(s, false);
  }

  private closeStream(s: H2ServerStream, reset: boolean): void {
    if (!this.streams.delete(s.id)) return;
    this.blocked.delete(s);
    if (reset || !s.remoteEnded) this.recentResets.add(s.id);
    s.finish(reset);
    if (this.goawaySent && this.streams.size === 0) this.endSocket();
  }

  private flushBlocked(): void {
    for (const s of [...this.blocked]) {
      if (this.connSend.size <= 0 || this.socketBlocked) return;
      this.flushStream(s);
    }
  }

  private sink(chunk: Uint8Array): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) return;
    if (socket.write(chunk) || this.socketBlocked) {
      if (socket.writableLength > MAX_SOCKET_BACKLOG && !this.dead) {
        this.dead = true; // a client that sends but never reads
        socket.destroy();
      }
      return;
    }
    this.socketBlocked = true;
    socket.once("drain", () => {
      this.socketBlocked = false;
      this.flushBlocked();
    });
  }

  /** GOAWAY, then every stream ends and the socket closes; NO_ERROR is a shutdown. */
  private shutdown(code: number, message: string): void {
    if (this.dead) return;
    this.sendGoaway(code, message);
    for (const s of [...this.streams.values()]) this.closeStream(s, true);
    this.endSocket();
  }

  private sendGoaway(code: number, message: string): void {
    if (this.goawaySent) return;
    this.goawaySent = true;
    this.writer.frame({
      type: FrameType.GOAWAY,
      lastStreamId: this.lastStreamId,
      errorCode: code,
      debugData: new TextEncoder().encode(message),
    });
  }

  private endSocket(): void {
    if (this.dead) return;
    this.dead = true;
    this.writer.flush();
    this.socket.end();
    this.graceTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    this.teardown();
  }

  private teardown(): void {
    this.dead = true;
    for (const s of [...this.streams.values()]) this.closeStream(s, true);
    this.blocked.clear();
  }
}
