// The request side of a client connection: odd stream ids, each request's HEADERS through the
// connection's HPACK encoder, and its body cut into DATA frames as far as the connection's and
// the stream's send windows and the server's max frame size allow (RFC 9113 §5.1.1, §6.9). A
// stream that cannot send everything waits in the blocked set until a WINDOW_UPDATE or a larger
// SETTINGS_INITIAL_WINDOW_SIZE makes room.

import { ErrorCode, H2Error } from "./errors.ts";
import { ReceiveWindow, SendWindow } from "./flow.ts";
import { HpackEncoder } from "./hpack_encoder.ts";
import { DEFAULT_SETTINGS, type Settings } from "./settings.ts";
import type { ClientStream } from "./client_stream.ts";
import type { FrameWriter } from "./writer.ts";

/** What the request side reads of its connection. */
export interface SenderHost {
  /** The server's settings, as its last SETTINGS frame left them. */
  remoteSettings(): Settings;
  readonly localSettings: Settings;
  readonly streams: Map<number, ClientStream>;
  /** The stream is over (both sides ended it). */
  finishStream(s: ClientStream): void;
}

const EMPTY = new Uint8Array(0);

export class RequestSender {
  /** The connection's send window: what the server lets us send on all streams together. */
  readonly connSend = new SendWindow(DEFAULT_SETTINGS.initialWindowSize);
  readonly encoder = new HpackEncoder();
  private readonly blocked = new Set<ClientStream>();
  private nextStreamId = 1;

  constructor(private readonly writer: FrameWriter, private readonly host: SenderHost) {}

  private get remoteSettings(): Settings {
    return this.host.remoteSettings();
  }

  private get localSettings(): Settings {
    return this.host.localSettings;
  }

  private get streams(): Map<number, ClientStream> {
    return this.host.streams;
  }

  private finishStream(s: ClientStream): void {
    this.host.finishStream(s);
  }

  open(s: ClientStream): void {
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

  flushBlocked(): void {
    for (const s of [...this.blocked]) {
      if (this.connSend.size <= 0) return;
      this.flushStream(s);
    }
  }

  /** Frames for stream ids we never opened are a connection error (§5.1). */
  checkNotIdle(id: number): void {
    if (id % 2 === 0 || id >= this.nextStreamId) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, `frame on idle stream ${id}`);
    }
  }

  /** The stream is gone: it waits for no window any more. */
  forget(s: ClientStream): void {
    this.blocked.delete(s);
  }
}
