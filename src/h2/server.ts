// A lean HTTP/2 server connection (RFC 9113) on a node:net or node:tls socket whose next bytes
// are the client preface: SETTINGS, request streams with HPACK headers (any :authority),
// flow control both ways, PING, RST_STREAM, GOAWAY, SETTINGS_MAX_CONCURRENT_STREAMS and size
// limits. Protocol violations end the offending stream (RST_STREAM) or the connection (GOAWAY);
// nothing a client sends can throw out of here. Frames written in one event-loop turn leave in
// one socket write (FrameWriter). This file handles the frames the client sends and the life
// of the connection; its options (server_options.ts), the socket (server_socket.ts), the open
// streams and their ids (server_stream_table.ts) and the response side (server_send.ts) are
// their own jobs.

import type * as net from "node:net";
import type { PeerCertificate } from "node:tls";
import { ErrorCode, H2Error, HeaderListSizeError } from "./errors.ts";
import { ReceiveWindow, SendWindow } from "./flow.ts";
import {
  type DataFrame,
  flowControlledLength,
  type Frame,
  FrameType,
  type HeadersFrame,
} from "./frame.ts";
import { FrameParser } from "./frame_parser.ts";
import type { HeaderList } from "./hpack.ts";
import { HpackDecoder } from "./hpack_decoder.ts";
import { applySettings, DEFAULT_SETTINGS, type Settings } from "./settings.ts";
import { announced, localSettings, type ServerConnectionOptions } from "./server_options.ts";
import { FrameWriter } from "./writer.ts";
import { H2ServerStream, type StreamHost } from "./server_request.ts";
import { requestHeaders } from "./server_headers.ts";
import { HeaderBlocks } from "./header_block.ts";
import { ResetRate } from "./server_limits.ts";
import { ConnectionKeepalive, TOO_MANY_PINGS } from "./server_keepalive.ts";
import { ResponseSender } from "./server_send.ts";
import { ConnectionSocket } from "./server_socket.ts";
import { StreamTable } from "./server_stream_table.ts";
import type { OutgoingHeaders } from "./server_stream.ts";

// grpc-go's keepalive pings carry eight zero bytes.
const PING_DATA = new Uint8Array(8);

export class ServerConnection implements StreamHost {
  readonly peerAddress: string;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  private readonly socket: ConnectionSocket;
  private readonly writer: FrameWriter;
  private readonly parser: FrameParser;
  private readonly decoder: HpackDecoder;
  private readonly sender: ResponseSender;
  private readonly local: Settings;
  private remote: Settings = { ...DEFAULT_SETTINGS };
  private readonly streams = new StreamTable();
  private readonly resetRate = new ResetRate();
  private readonly connRecv: ReceiveWindow;
  private readonly headerBlocks: HeaderBlocks;
  private goawaySent = false;
  private gotSettings = false;
  private dead = false;
  private readonly keepalive?: ConnectionKeepalive;

  constructor(socket: net.Socket, private readonly opts: ServerConnectionOptions) {
    this.local = localSettings(opts);
    this.decoder = new HpackDecoder({ maxHeaderListSize: this.local.maxHeaderListSize });
    // A compressed block is rarely larger than what it decodes to; beyond twice the list
    // limit, a block (HEADERS plus CONTINUATIONs) is a flood, not a request.
    this.headerBlocks = new HeaderBlocks(
      2 * this.local.maxHeaderListSize,
      (f, block) => this.onHeaderBlock(f, block),
    );
    this.parser = new FrameParser({ maxFrameSize: this.local.maxFrameSize, expectPreface: true });
    this.connRecv = new ReceiveWindow(
      DEFAULT_SETTINGS.initialWindowSize,
      opts.connectionWindowSize ?? 16 * 1024 * 1024,
    );

    this.socket = new ConnectionSocket(socket, {
      onBytes: (chunk) => this.onBytes(chunk),
      onDrain: () => this.sender.flushBlocked(),
      onBacklog: () => {
        if (this.dead) return;
        this.dead = true; // a client that sends but never reads
        this.socket.destroy();
      },
      onGone: () => this.teardown(),
    });
    this.peerAddress = this.socket.peerAddress;
    this.closed = this.socket.closed;
    this.writer = new FrameWriter((chunk) => this.socket.write(chunk));
    this.sender = new ResponseSender(
      this.writer,
      this.socket,
      (s) => this.localEnd(s),
      () => this.keepalive?.sent(),
    );
    this.writer.frame({ type: FrameType.SETTINGS, ack: false, settings: announced(this.local) });
    const inc = this.connRecv.grow();
    if (inc > 0) this.writer.windowUpdate(0, inc);
    if (opts.keepalive) {
      this.keepalive = new ConnectionKeepalive(opts.keepalive, {
        ping: () => this.writer.frame({ type: FrameType.PING, ack: false, opaqueData: PING_DATA }),
        close: () => this.socket.destroy(),
      });
    }
  }

  /** Open streams (tests and diagnostics). */
  get activeStreams(): number {
    return this.streams.open.size;
  }

  /** Shutdown: GOAWAY(NO_ERROR), every stream ends, the socket closes. */
  close(): void {
    this.shutdown(ErrorCode.NO_ERROR, "");
  }

  // --- StreamHost ---

  peerCertificate(): PeerCertificate | undefined {
    return this.socket.peerCertificate();
  }

  sendHeaders(s: H2ServerStream, headers: OutgoingHeaders, endStream: boolean): void {
    this.sender.headers(s, headers, endStream);
  }

  flushStream(s: H2ServerStream): void {
    this.sender.flush(s);
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
    this.keepalive?.read();
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
    this.headerBlocks.checkInterleaved(f.type);
    if (!this.gotSettings && (f.type !== FrameType.SETTINGS || f.ack)) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, "client preface does not start with SETTINGS");
    }
    // After our GOAWAY, frames on streams above its last stream id are ignored (§6.8); header
    // blocks still go to onHeaderBlock, as each one changes the HPACK state.
    const headerBlock = f.type === FrameType.HEADERS || f.type === FrameType.CONTINUATION;
    if (!headerBlock && "streamId" in f && this.streams.beyondGoaway(f.streamId)) {
      if (f.type === FrameType.DATA) this.countConnectionWindow(f);
      return;
    }
    switch (f.type) {
      case FrameType.DATA:
        return this.onData(f);
      case FrameType.HEADERS:
      case FrameType.CONTINUATION:
        return this.headerBlocks.receive(f);
      case FrameType.SETTINGS:
        if (!f.ack) this.onSettings(f.settings);
        return;
      case FrameType.PING:
        if (f.ack) return;
        this.writer.frame({ type: FrameType.PING, ack: true, opaqueData: f.opaqueData.slice() });
        if (this.keepalive?.ping(this.streams.open.size)) {
          this.shutdown(ErrorCode.ENHANCE_YOUR_CALM, TOO_MANY_PINGS);
        }
        return;
      case FrameType.GOAWAY:
        // The client is leaving: it opens no more streams. Finish what is open, then close.
        this.sendGoaway(ErrorCode.NO_ERROR, "");
        if (this.streams.open.size === 0) this.endSocket();
        return;
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(f.streamId, f.increment);
      case FrameType.RST_STREAM: {
        this.streams.checkNotIdle(f.streamId);
        const s = this.streams.open.get(f.streamId);
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
    this.sender.peerSettings(prev, next);
    const delta = next.initialWindowSize - prev.initialWindowSize;
    if (delta !== 0) { for (const s of this.streams.open.values()) s.sendWindow.adjust(delta); }
    this.writer.frame({ type: FrameType.SETTINGS, ack: true, settings: [] });
    this.gotSettings = true;
    if (delta > 0) this.sender.flushBlocked();
  }

  private onWindowUpdate(id: number, increment: number): void {
    if (id === 0) {
      this.sender.window.increase(increment);
      this.sender.flushBlocked();
      return;
    }
    this.streams.checkNotIdle(id);
    const s = this.streams.open.get(id);
    if (!s) return; // late update for a stream that is gone
    s.sendWindow.increase(increment);
    if (s.outbox.length > 0 || s.endPending) this.sender.flush(s);
  }

  /** Every DATA frame counts against the connection window, also one that is ignored (§6.8). */
  private countConnectionWindow(f: DataFrame): number {
    const len = flowControlledLength(f);
    this.connRecv.consume(len);
    const inc = this.connRecv.release(len); // the stream windows bound what is buffered
    if (inc > 0) this.writer.windowUpdate(0, inc);
    return len;
  }

  private onData(f: DataFrame): void {
    const len = this.countConnectionWindow(f);
    const s = this.streams.open.get(f.streamId);
    if (!s) {
      this.streams.checkNotIdle(f.streamId);
      if (this.streams.wasReset(f.streamId)) return;
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

  /** A complete header block: a new request, or the trailers of an open one. */
  private onHeaderBlock(f: HeadersFrame, block: Uint8Array): void {
    const id = f.streamId;
    let list: HeaderList;
    try {
      list = this.decoder.decode(block); // always: the HPACK state is shared by all streams
    } catch (err) {
      if (!(err instanceof HeaderListSizeError)) throw err; // COMPRESSION_ERROR: connection
      this.streams.claimRefused(id);
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, err.message, id);
    }
    if (f.priority?.dependency === id) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, `stream ${id} depends on itself`, id);
    }
    const existing = this.streams.open.get(id);
    if (existing) { // trailers
      if (existing.remoteEnded) {
        throw new H2Error(ErrorCode.STREAM_CLOSED, "HEADERS after END_STREAM", id);
      }
      if (!f.endStream) {
        throw new H2Error(ErrorCode.PROTOCOL_ERROR, "trailers without END_STREAM", id);
      }
      return this.remoteEnd(existing);
    }
    if (this.streams.beyondGoaway(id)) return; // decoded for HPACK's sake, otherwise ignored
    if (!this.streams.claim(id)) return;
    if (this.streams.open.size >= this.local.maxConcurrentStreams) {
      throw new H2Error(ErrorCode.REFUSED_STREAM, "too many concurrent streams", id);
    }
    this.openStream(f, list);
  }

  private openStream(f: HeadersFrame, list: HeaderList): void {
    const id = f.streamId;
    const headers = requestHeaders(list, id);
    const s = new H2ServerStream(
      this,
      id,
      headers,
      new SendWindow(this.remote.initialWindowSize, id),
      new ReceiveWindow(this.local.initialWindowSize, this.local.initialWindowSize, id),
    );
    this.streams.open.set(id, s);
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
    // No RST_STREAM for an idle stream (§6.4): a malformed PRIORITY there is simply dropped;
    // none either for a stream above our GOAWAY's last stream id, whose frames we ignore (§6.8).
    if (this.streams.isIdle(e.streamId) || this.streams.beyondGoaway(e.streamId)) return;
    this.writer.rstStream(e.streamId, e.code);
    this.streams.markReset(e.streamId);
    const s = this.streams.open.get(e.streamId);
    if (s) this.closeStream(s, true);
  }

  // --- stream ends and connection lifecycle ---

  private localEnd(s: H2ServerStream): void {
    s.localEnded = true;
    this.sender.forget(s);
    if (s.remoteEnded) return this.closeStream(s, false);
    // The response is complete before the request: ask the client to stop sending (§8.1).
    this.writer.rstStream(s.id, ErrorCode.NO_ERROR);
    this.closeStream(s, false);
  }

  private closeStream(s: H2ServerStream, reset: boolean): void {
    if (!this.streams.close(s, reset)) return;
    this.sender.forget(s);
    s.finish(reset);
    if (this.goawaySent && this.streams.open.size === 0) this.endSocket();
  }

  /** GOAWAY, then every stream ends and the socket closes; NO_ERROR is a shutdown. */
  private shutdown(code: number, message: string): void {
    if (this.dead) return;
    this.sendGoaway(code, message);
    for (const s of [...this.streams.open.values()]) this.closeStream(s, true);
    this.endSocket();
  }

  private sendGoaway(code: number, message: string): void {
    if (this.goawaySent) return;
    this.goawaySent = true;
    this.writer.frame({
      type: FrameType.GOAWAY,
      lastStreamId: this.streams.goaway(),
      errorCode: code,
      debugData: new TextEncoder().encode(message),
    });
  }

  private endSocket(): void {
    if (this.dead) return;
    this.dead = true;
    this.writer.flush();
    this.socket.end();
    this.teardown();
  }

  private teardown(): void {
    this.dead = true;
    this.keepalive?.stop();
    for (const s of [...this.streams.open.values()]) this.closeStream(s, true);
    this.sender.forgetAll();
  }
}
