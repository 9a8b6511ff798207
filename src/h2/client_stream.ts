// One request on a client connection: what its owner is told, and what it holds while its
// body waits for the send windows.

import { ErrorCode, errorCodeName, H2Error } from "./errors.ts";
import type { ReceiveWindow, SendWindow } from "./flow.ts";
import type { HeaderList } from "./hpack.ts";

/** What a stream's owner is told; each stream gets exactly one onClose. */
export interface StreamHandler {
  /** Response headers, then (with endStream) trailers; informational 1xx blocks are skipped. */
  onHeaders(headers: HeaderList, endStream: boolean): void;
  onData(data: Uint8Array, endStream: boolean): void;
  /** The stream is over: undefined after both sides ended it, else why it failed. */
  onClose(error?: Error): void;
}

/** What a stream asks of its connection. */
export interface StreamConnection {
  flushStream(s: ClientStream): void;
  resetStream(s: ClientStream, code: number, err: Error): void;
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
    private readonly conn: StreamConnection,
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
