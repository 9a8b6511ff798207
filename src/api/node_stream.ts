// A node:http2 server stream seen through the transport-neutral ServerStream interface, so that
// the gRPC layer and the HTTP bridge run unchanged on node:http2 (ETCD_TS_HTTP2=node) and on the
// lean server.

import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { PeerCertificate, TLSSocket } from "node:tls";
import type { OutgoingHeaders, ServerStream, StreamEvents } from "../h2/mod.ts";

interface Peer {
  address: string;
  tls?: TLSSocket;
}

// Per connection, not per call: the session's socket is a proxy whose property reads are slow.
const peers = new WeakMap<object, Peer>();

export class NodeServerStream implements ServerStream {
  private readonly peer: Peer;

  constructor(
    private readonly stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
    /** Told of each response header and data write (gRPC keepalive's ping policy). */
    private readonly onSend?: () => void,
  ) {
    this.peer = peerOf(stream);
    stream.on("error", () => {});
  }

  get peerAddress(): string {
    return this.peer.address;
  }

  get closed(): boolean {
    return this.stream.destroyed || this.stream.closed;
  }

  get isPaused(): boolean {
    return this.stream.isPaused();
  }

  peerCertificate(): PeerCertificate | undefined {
    if (!this.peer.tls) return undefined;
    try {
      const cert = this.peer.tls.getPeerCertificate();
      return cert && Object.keys(cert).length > 0 ? cert : undefined;
    } catch {
      return undefined; // node:http2's socket proxy throws once the session is gone
    }
  }

  attach(ev: StreamEvents): void {
    const s = this.stream;
    s.on("data", (chunk: Uint8Array) => ev.onData(chunk));
    s.once("end", () => ev.onEnd());
    s.on("drain", () => ev.onDrain());
    s.once("close", () => ev.onClose());
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  respond(headers: OutgoingHeaders, endStream: boolean, trailers: boolean): void {
    this.onSend?.();
    this.stream.respond({ ...headers }, endStream ? { endStream } : { waitForTrailers: trailers });
  }

  write(data: Uint8Array): boolean {
    this.onSend?.();
    return this.stream.write(data);
  }

  end(trailers?: OutgoingHeaders): void {
    const s = this.stream;
    if (trailers) s.once("wantTrailers", () => s.sendTrailers({ ...trailers }));
    s.end();
  }

  reset(code: number): void {
    if (!this.stream.destroyed) this.stream.close(code);
  }
}

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
