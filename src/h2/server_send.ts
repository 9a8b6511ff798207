// The response side of a lean server connection: response headers and trailers through the
// connection's HPACK encoder, and response data cut into DATA frames as far as the connection
// window, the stream's window, the client's max frame size and the socket allow (RFC 9113
// §5.2, §6.9). A stream that cannot send everything waits in the blocked set until a
// WINDOW_UPDATE, a larger SETTINGS_INITIAL_WINDOW_SIZE or the socket's drain makes room.

import { SendWindow } from "./flow.ts";
import { HpackEncoder } from "./hpack_encoder.ts";
import { responseHeaderList } from "./server_headers.ts";
import type { H2ServerStream } from "./server_request.ts";
import type { OutgoingHeaders } from "./server_stream.ts";
import { DEFAULT_SETTINGS, type Settings } from "./settings.ts";
import type { FrameWriter } from "./writer.ts";

const EMPTY = new Uint8Array(0);

export class ResponseSender {
  /** The connection's send window: what the client lets us send on all streams together. */
  readonly window = new SendWindow(DEFAULT_SETTINGS.initialWindowSize);
  private readonly encoder = new HpackEncoder();
  private readonly blocked = new Set<H2ServerStream>();
  private maxFrameSize = DEFAULT_SETTINGS.maxFrameSize;

  constructor(
    private readonly writer: FrameWriter,
    private readonly socket: { readonly blocked: boolean },
    // END_STREAM went out: the connection moves the stream towards closed.
    private readonly onEnded: (s: H2ServerStream) => void,
    // Headers or data went out (gRPC keepalive forgives the client's next ping).
    private readonly onSent: () => void = () => {},
  ) {}

  /** The client's SETTINGS changed what we may send: its HPACK table size, its frame size. */
  peerSettings(prev: Settings, next: Settings): void {
    if (next.headerTableSize !== prev.headerTableSize) {
      this.encoder.setPeerMaxTableSize(next.headerTableSize);
    }
    this.maxFrameSize = next.maxFrameSize;
  }

  headers(s: H2ServerStream, headers: OutgoingHeaders, endStream: boolean): void {
    const block = this.encoder.encode(responseHeaderList(headers));
    this.writer.headers(s.id, block, endStream, this.maxFrameSize);
    this.onSent();
    if (endStream) this.onEnded(s);
  }

  /** Sends what the windows allow of the stream's outbox, then its end once the outbox is empty. */
  flush(s: H2ServerStream): void {
    if (s.closed || s.localEnded) return;
    const maxFrame = this.maxFrameSize;
    while (s.outbox.length > 0) {
      const allowed = Math.min(this.window.size, s.sendWindow.size, maxFrame);
      if (allowed <= 0 || this.socket.blocked) {
        this.blocked.add(s);
        return;
      }
      const chunk = s.outbox[0];
      const n = Math.min(allowed, chunk.length);
      const last = n === chunk.length && s.outbox.length === 1 && s.endPending && !s.trailers;
      this.writer.data(s.id, n === chunk.length ? chunk : chunk.subarray(0, n), last);
      this.onSent();
      this.window.consume(n);
      s.sendWindow.consume(n);
      s.outboxBytes -= n;
      if (n === chunk.length) s.outbox.shift();
      else s.outbox[0] = chunk.subarray(n);
      if (last) return this.onEnded(s);
    }
    this.blocked.delete(s);
    if (s.endPending) {
      this.onSent();
      if (s.trailers) {
        const block = this.encoder.encode(responseHeaderList(s.trailers));
        this.writer.headers(s.id, block, true, this.maxFrameSize);
      } else this.writer.data(s.id, EMPTY, true);
      return this.onEnded(s);
    }
    if (s.wantDrain) {
      s.wantDrain = false;
      s.events?.onDrain();
    }
  }

  /** Room appeared (connection window or socket): blocked streams send in the order they waited. */
  flushBlocked(): void {
    for (const s of [...this.blocked]) {
      if (this.window.size <= 0 || this.socket.blocked) return;
      this.flush(s);
    }
  }

  /** The stream sends nothing more (ended, reset or closed). */
  forget(s: H2ServerStream): void {
    this.blocked.delete(s);
  }

  forgetAll(): void {
    this.blocked.clear();
  }
}
