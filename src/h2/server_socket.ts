// The socket under a lean server connection: writes with back-pressure (a refused write marks
// the socket blocked until "drain", and response data waits), the cap on bytes queued for a
// client that sends but never reads, a graceful end that gives a GOAWAY time to leave before
// the socket is destroyed, and who the peer is (its address, its TLS certificate).

import type * as net from "node:net";
import type { PeerCertificate, TLSSocket } from "node:tls";

/** Bytes waiting in the socket beyond which a client that does not read is dropped. */
const MAX_SOCKET_BACKLOG = 16 * 1024 * 1024;
/** How long a closing connection may take to flush its GOAWAY before the socket is destroyed. */
const CLOSE_GRACE_MS = 100;

/** What the socket tells its connection. */
export interface SocketEvents {
  onBytes(chunk: Uint8Array): void;
  /** The socket takes writes again after having refused one. */
  onDrain(): void;
  /** More than MAX_SOCKET_BACKLOG bytes wait in the socket: the client does not read. */
  onBacklog(): void;
  /** The socket failed or closed: nothing more can be sent or received. */
  onGone(): void;
}

export class ConnectionSocket {
  readonly peerAddress: string;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  /** The last write was refused and "drain" has not come yet. */
  blocked = false;
  private readonly tls: TLSSocket | undefined;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly socket: net.Socket, private readonly events: SocketEvents) {
    const host = socket.remoteAddress ?? "";
    this.peerAddress = `${host.includes(":") ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
    this.tls = (socket as TLSSocket).encrypted ? socket as TLSSocket : undefined;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Uint8Array) => events.onBytes(chunk));
    socket.on("error", () => events.onGone());
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        clearTimeout(this.graceTimer);
        events.onGone();
        resolve();
      })
    );
  }

  peerCertificate(): PeerCertificate | undefined {
    if (!this.tls) return undefined;
    try {
      const cert = this.tls.getPeerCertificate();
      return cert && Object.keys(cert).length > 0 ? cert : undefined;
    } catch {
      return undefined;
    }
  }

  write(chunk: Uint8Array): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) return;
    if (socket.write(chunk) || this.blocked) {
      if (socket.writableLength > MAX_SOCKET_BACKLOG) this.events.onBacklog();
      return;
    }
    this.blocked = true;
    socket.once("drain", () => {
      this.blocked = false;
      this.events.onDrain();
    });
  }

  /** Ends our side once written; destroys the socket if the client does not close in time. */
  end(): void {
    this.socket.end();
    this.graceTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
  }

  destroy(): void {
    this.socket.destroy();
  }
}
