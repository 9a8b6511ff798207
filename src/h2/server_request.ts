// One request stream of a lean server connection: buffers request data while its receiver is
// paused (the client's stream window grows only as data is delivered) and queues response data
// until the flow-control windows have room. The connection drives the protocol; this object holds
// the per-stream state and implements the transport-neutral ServerStream.

import type { PeerCertificate } from "node:tls";
import type { ReceiveWindow, SendWindow } from "./flow.ts";
import type {
  IncomingHeaders,
  OutgoingHeaders,
  ServerStream,
  StreamEvents,
} from "./server_stream.ts";

/** The connection's side of a stream (implemented by ServerConnection). */
export interface StreamHost {
  readonly peerAddress: string;
  peerCertificate(): PeerCertificate | undefined;
  sendHeaders(s: H2ServerStream, headers: OutgoingHeaders, endStream: boolean): void;
  flushStream(s: H2ServerStream): void;
  resetStream(s: H2ServerStream, code: number): void;
  releaseStream(s: H2ServerStream, n: number): void;
}

/** Queued response bytes above which write() asks the writer to wait for onDrain. */
export const WRITE_HIGH_WATER = 64 * 1024;

export class H2ServerStream implements ServerStream {
  events: StreamEvents | undefined;
  /** The client sent END_STREAM (delivered to the receiver or not). */
  remoteEnded = false;
  /** We sent END_STREAM. */
  localEnded = false;
  headersSent = false;
  /** end() was called; END_STREAM goes out once the outbox is empty. */
  endPending = false;
  trailers: OutgoingHeaders | undefined;
  /** Response data not yet framed, and its size. */
  outbox: Uint8Array[] = [];
  outboxBytes = 0;
  wantDrain = false;
  private done = false;
  private paused = false;
  private inbox: Uint8Array[] = [];
  private endDelivered = false;
  private closeNotified = false;
  private pumpScheduled = false;

  constructor(
    private readonly host: StreamHost,
    readonly id: number,
    readonly headers: IncomingHeaders,
    readonly sendWindow: SendWindow,
    readonly recvWindow: ReceiveWindow,
  ) {}

  get peerAddress(): string {
    return this.host.peerAddress;
  }

  get closed(): boolean {
    return this.done;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  peerCertificate(): PeerCertificate | undefined {
    return this.host.peerCertificate();
  }

  attach(events: StreamEvents): void {
    this.events = events;
    if (this.inbox.length > 0 || this.remoteEnded || this.done) this.schedulePump();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.schedulePump();
  }

  respond(headers: OutgoingHeaders, endStream: boolean, _trailers: boolean): void {
    if (this.headersSent) throw new Error("response headers already sent");
    if (this.done) return;
    this.headersSent = true;
    if (endStream) this.endPending = true;
    this.host.sendHeaders(this, headers, endStream);
  }

  write(data: Uint8Array): boolean {
    if (this.done || this.endPending) return true; // nobody is listening any more
    if (data.length > 0) {
      this.outbox.push(data);
      this.outboxBytes += data.length;
      this.host.flushStream(this);
    }
    if (this.outboxBytes < WRITE_HIGH_WATER) return true;
    this.wantDrain = true;
    return false;
  }

  end(trailers?: OutgoingHeaders): void {
    if (this.done || this.endPending) return;
    this.endPending = true;
    this.trailers = trailers;
    this.host.flushStream(this);
  }

  reset(code: number): void {
    if (!this.done) this.host.resetStream(this, code);
  }

  // --- driven by the connection ---

  /** Request data arrived (already counted against the windows). */
  receive(chunk: Uint8Array): void {
    if (this.events && !this.paused && this.inbox.length === 0 && !this.pumpScheduled) {
      this.events.onData(chunk);
      this.host.releaseStream(this, chunk.length);
    } else {
      this.inbox.push(chunk);
    }
  }

  /** The client ended its side. */
  receiveEnd(): void {
    this.remoteEnded = true;
    if (this.events && !this.paused && this.inbox.length === 0 && !this.pumpScheduled) {
      this.deliverEnd();
    }
  }

  /** The protocol is done with the stream; `reset` drops undelivered request data. */
  finish(reset: boolean): void {
    if (this.done) return;
    this.done = true;
    this.outbox = [];
    this.outboxBytes = 0;
    if (reset) this.inbox = [];
    if (this.events && !this.pumpScheduled && this.inbox.length === 0) this.notifyClose();
    else if (this.events) this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    queueMicrotask(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    const ev = this.events;
    if (!ev) return;
    while (!this.paused && this.inbox.length > 0) {
      const chunk = this.inbox.shift()!;
      ev.onData(chunk);
      if (!this.done) this.host.releaseStream(this, chunk.length);
    }
    if (this.inbox.length > 0) return;
    if (this.remoteEnded && !this.paused) this.deliverEnd();
    if (this.done) this.notifyClose();
  }

  private deliverEnd(): void {
    if (this.endDelivered) return;
    this.endDelivered = true;
    this.events?.onEnd();
  }

  private notifyClose(): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    this.events?.onClose();
  }
}
