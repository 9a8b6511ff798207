// The proxy's HTTP client to members (etcd's timeout transport): keep-alive connections, a dial
// timeout, per-connection read/write timeouts (0 = none), and client TLS settings for https
// members. Errors read as Go's net errors, since etcd logs them.
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import type tls from "node:tls";

/** Client TLS towards https members. */
export type UpstreamTLS = Pick<tls.ConnectionOptions, "ca" | "cert" | "key" | "rejectUnauthorized">;

export interface TransportOptions {
  dialTimeoutMs: number;
  /** Idle time allowed while reading a response; 0 = none (long-poll watches). */
  readTimeoutMs: number;
  /** Time allowed to send the request; 0 = none. */
  writeTimeoutMs: number;
  tls?: UpstreamTLS;
}

export interface OutgoingRequest {
  url: URL;
  method: string;
  headers: Record<string, string | string[]>;
  body?: Uint8Array;
  signal?: AbortSignal;
}

/** etcd's DefaultMaxIdleConnsPerHost for the proxy transport. */
const MAX_IDLE_PER_HOST = 128;

export class Transport {
  readonly #http: http.Agent;
  readonly #https: https.Agent;
  readonly #timed = new WeakSet<net.Socket>();

  constructor(readonly opts: TransportOptions) {
    this.#http = new http.Agent({ keepAlive: true, maxFreeSockets: MAX_IDLE_PER_HOST });
    this.#https = new https.Agent({
      keepAlive: true,
      maxFreeSockets: MAX_IDLE_PER_HOST,
      ca: opts.tls?.ca,
      cert: opts.tls?.cert,
      key: opts.tls?.key,
      rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
    });
  }

  /**
   * Sends the request; resolves when the response head arrives (the body is left to stream).
   * Rejects with a Go-worded error when the member cannot be reached or does not answer.
   */
  roundTrip(out: OutgoingRequest): Promise<http.IncomingMessage> {
    const { url } = out;
    const secure = url.protocol === "https:";
    const hostPort = goHostPort(url);
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port || (secure ? 443 : 80),
        method: out.method,
        path: `${url.pathname}${url.search}`,
        headers: out.headers,
        agent: secure ? this.#https : this.#http,
        signal: out.signal,
      });
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      req.on("error", (err) => fail(goNetError(err, out.method, url, hostPort)));
      req.on("socket", (socket: net.Socket) => this.#arm(req, socket, hostPort));
      req.on("response", (res) => {
        settled = true;
        resolve(res);
      });
      if (this.opts.writeTimeoutMs > 0) {
        const timer = setTimeout(
          () => req.destroy(timeoutError(`write tcp ${hostPort}: i/o timeout`)),
          this.opts.writeTimeoutMs,
        );
        req.on("finish", () => clearTimeout(timer));
        req.on("close", () => clearTimeout(timer));
      }
      req.end(out.body);
    });
  }

  // Dial and read timeouts on the connection the request got (new or reused).
  #arm(req: http.ClientRequest, socket: net.Socket, hostPort: string): void {
    const { dialTimeoutMs, readTimeoutMs } = this.opts;
    if (socket.connecting && dialTimeoutMs > 0) {
      const timer = setTimeout(
        () => req.destroy(timeoutError(`dial tcp ${hostPort}: i/o timeout`)),
        dialTimeoutMs,
      );
      socket.once("connect", () => clearTimeout(timer));
      socket.once("close", () => clearTimeout(timer));
    }
    // Once per connection: a kept-alive socket serves many requests.
    if (readTimeoutMs > 0 && !this.#timed.has(socket)) {
      this.#timed.add(socket);
      socket.setTimeout(readTimeoutMs, () => {
        socket.destroy(timeoutError(`read tcp ${hostPort}: i/o timeout`));
      });
    }
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { code: "ETIMEDOUT_GO" });
}

/** `host:port` with the scheme's default port, as Go's dialer names the address. */
export function goHostPort(url: URL): string {
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return `${url.hostname}:${port}`;
}

const ERRNO_TEXT: Record<string, string> = {
  ECONNREFUSED: "connect: connection refused",
  EHOSTUNREACH: "connect: no route to host",
  ENETUNREACH: "connect: network is unreachable",
  EADDRNOTAVAIL: "connect: cannot assign requested address",
  ECONNRESET: "read: connection reset by peer",
  EPIPE: "write: broken pipe",
};

const UNKNOWN_AUTHORITY = "certificate signed by unknown authority";
const X509_TEXT: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: UNKNOWN_AUTHORITY,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: UNKNOWN_AUTHORITY,
  SELF_SIGNED_CERT_IN_CHAIN: UNKNOWN_AUTHORITY,
  DEPTH_ZERO_SELF_SIGNED_CERT: UNKNOWN_AUTHORITY,
  CERT_HAS_EXPIRED: "certificate has expired or is not yet valid",
  CERT_NOT_YET_VALID: "certificate has expired or is not yet valid",
};

/** Go's wording for a failed request (`dial tcp 127.0.0.1:2379: connect: connection refused`). */
function goNetError(err: Error, method: string, url: URL, hostPort: string): Error {
  const code = (err as { code?: string }).code ?? "";
  if (code === "ETIMEDOUT_GO") return err;
  if (
    code === "ECONNREFUSED" || code === "EHOSTUNREACH" || code === "ENETUNREACH" ||
    code === "EADDRNOTAVAIL"
  ) {
    return new Error(`dial tcp ${hostPort}: ${ERRNO_TEXT[code]}`, { cause: err });
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new Error(`dial tcp: lookup ${url.hostname}: no such host`, { cause: err });
  }
  if (code === "ECONNRESET" || code === "EPIPE") {
    return new Error(`${ERRNO_TEXT[code].split(":")[0]} tcp ${hostPort}: ${ERRNO_TEXT[code]}`, {
      cause: err,
    });
  }
  const x509 = X509_TEXT[code];
  if (x509) return new Error(`x509: ${x509}`, { cause: err });
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new Error(`x509: certificate is not valid for ${url.hostname}`, { cause: err });
  }
  if (code === "ABORT_ERR" || err.name === "AbortError") {
    return new Error("context canceled", { cause: err });
  }
  if (/socket hang up/.test(err.message)) {
    return new Error(`${method} ${url}: EOF`, { cause: err });
  }
  return err;
}
