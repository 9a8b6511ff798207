// The server side of one HTTP/2 request as the gRPC layer and the HTTP bridge see it, whatever
// carries it: the lean connection in server.ts or node:http2 (through an adapter). Events go to
// one receiver object rather than to per-event closures, which keeps a request allocation-light.

import type { PeerCertificate } from "node:tls";

/** Request headers, pseudo-headers included; names lower-case, repeated values joined. */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

/** Response headers or trailers; a frozen object lets the lean server reuse its HPACK block. */
export type OutgoingHeaders = Readonly<Record<string, string | number | string[]>>;

/** What a stream tells its owner. Exactly one onClose, after onEnd when the request completed. */
export interface StreamEvents {
  /** A piece of the request body; the receiver may keep it. */
  onData(chunk: Uint8Array): void;
  /** The client finished its request body. */
  onEnd(): void;
  /** write() returned false earlier and there is room again. */
  onDrain(): void;
  /** The stream is over: both sides finished, either side reset it, or the connection died. */
  onClose(): void;
}

export interface ServerStream {
  readonly headers: IncomingHeaders;
  /** The client's address as "ip:port" (IPv6 in brackets). */
  readonly peerAddress: string;
  /** Nothing can be sent any more (closed or reset). */
  readonly closed: boolean;
  readonly isPaused: boolean;
  /** The verified client certificate on a TLS connection that presented one. */
  peerCertificate(): PeerCertificate | undefined;
  /** Directs events to `events`; data that arrived before is delivered after this returns. */
  attach(events: StreamEvents): void;
  /** Stop delivering data; the client's window stops growing until resume(). */
  pause(): void;
  resume(): void;
  /**
   * Sends the response headers. With `endStream` the response is complete; otherwise the body
   * follows, and `trailers` says whether end() will carry trailers.
   */
  respond(headers: OutgoingHeaders, endStream: boolean, trailers: boolean): void;
  /** Queues body bytes; false means "wait for onDrain before writing more". */
  write(data: Uint8Array): boolean;
  /** Ends the response, with trailers when respond() announced them. */
  end(trailers?: OutgoingHeaders): void;
  /** Abandons the stream with an HTTP/2 error code (RST_STREAM). */
  reset(code: number): void;
}
