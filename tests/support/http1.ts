// The HTTP/1.1 client the tests and the bench drive members' JSON gateway with: one connection
// kept alive across requests, as Python's requests.Session or curl --keepalive use it, and
// requests written back to back before their answers are read (pipelining). It parses just
// enough of an answer (status line, headers, Content-Length or chunked) to find where it ends.
// node: modules only, so the bench's load generator runs it under Node too.

import { Buffer } from "node:buffer";
import net from "node:net";
import tls from "node:tls";

export interface Http1Request {
  method: string;
  path: string;
  /** Added to Host (the connection's host:port) and Content-Length. */
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export interface Http1Answer {
  status: number;
  /** Lower-case names; a repeated header's values joined by ", ". */
  headers: Record<string, string>;
  body: Uint8Array;
}

const CRLF2 = Buffer.from("\r\n\r\n");

export class Http1Connection {
  /** Resolves when the socket closes, by either side. */
  readonly closed: Promise<void>;
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private ended = false;

  private constructor(private readonly socket: net.Socket, private readonly host: string) {
    socket.setNoDelay(true);
    socket.on("data", (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on("error", (e) => (this.failure = e));
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.ended = true;
        this.wake();
        resolve();
      })
    );
  }

  /** A plain connection, or TLS (ALPN http/1.1) with `tlsOptions`; `localAddress` to bind. */
  static connect(
    host: string,
    port: number,
    opts: { tls?: tls.ConnectionOptions; localAddress?: string } = {},
  ): Promise<Http1Connection> {
    return new Promise((resolve, reject) => {
      const where = { host, port, localAddress: opts.localAddress };
      const socket = opts.tls
        ? tls.connect({ ...where, ALPNProtocols: ["http/1.1"], ...opts.tls })
        : net.connect(where);
      socket.once(opts.tls ? "secureConnect" : "connect", () => {
        socket.off("error", reject);
        resolve(new Http1Connection(socket, `${host}:${port}`));
      });
      socket.once("error", reject);
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** The client's end of the connection (the same for every request it carries). */
  get localPort(): number {
    return this.socket.localPort!;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Sends one request and reads its answer. */
  request(req: Http1Request): Promise<Http1Answer> {
    this.send(req);
    return this.answer();
  }

  /** Writes one request; answers come back in the order requests were sent. */
  send(req: Http1Request): void {
    const body = typeof req.body === "string" ? Buffer.from(req.body) : req.body;
    let head = `${req.method} ${req.path} HTTP/1.1\r\nHost: ${this.host}\r\n`;
    for (const [name, value] of Object.entries(req.headers ?? {})) head += `${name}: ${value}\r\n`;
    if (body) head += `Content-Length: ${body.length}\r\n`;
    this.socket.write(head + "\r\n");
    if (body && body.length > 0) this.socket.write(body);
  }

  /** Reads the next answer. */
  async answer(): Promise<Http1Answer> {
    const end = await this.until(() => this.buf.indexOf(CRLF2));
    const lines = this.buf.subarray(0, end).toString("latin1").split("\r\n");
    this.buf = this.buf.subarray(end + 4);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(lines[0].split(" ")[1]);
    let body: Uint8Array;
    if (headers["transfer-encoding"]?.toLowerCase() === "chunked") body = await this.chunked();
    else {
      const n = Number(headers["content-length"] ?? 0);
      await this.until(() => (this.buf.length >= n ? n : -1));
      body = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
    }
    if (headers.connection?.toLowerCase() === "close") {
      this.ended = true; // no answer follows this one
      this.socket.end();
    }
    return { status, headers, body };
  }

  private async chunked(): Promise<Uint8Array> {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = await this.until(() => this.buf.indexOf("\r\n"));
      const size = parseInt(this.buf.subarray(0, eol).toString("latin1"), 16);
      if (size === 0) {
        // The last chunk: trailer fields (gRPC's, from etcd's gateway) up to an empty line.
        const end = await this.until(() => this.buf.indexOf(CRLF2, eol));
        this.buf = this.buf.subarray(end + 4);
        return Buffer.concat(parts);
      }
      await this.until(() => (this.buf.length >= eol + 2 + size + 2 ? 0 : -1));
      parts.push(this.buf.subarray(eol + 2, eol + 2 + size));
      this.buf = this.buf.subarray(eol + 2 + size + 2);
    }
  }

  /** Waits until `found` returns a position (not -1) in the bytes read so far. */
  private async until(found: () => number): Promise<number> {
    for (;;) {
      const at = found();
      if (at >= 0) return at;
      if (this.failure) throw this.failure;
      if (this.ended) throw new Error("connection closed before the answer ended");
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
