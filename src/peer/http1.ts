// A small HTTP/1.1 client on node:net / node:tls sockets. Members need three things a general
// client makes awkward: a response that streams for as long as the connection lives (a stream
// reader's) and an upload streamed as it is read (a snapshot's), full control of the socket
// (backpressure, read deadlines, no pooling surprises), and the peer TLS settings (client
// certificate, CA, InsecureSkipVerify for auto-TLS) on every dial.
import net from "node:net";
import tls from "node:tls";
import { isTLSURL, isUnixURL, unixSocketPath } from "../tls/mod.ts";
import { ChunkedDecoder, encodeChunk, LAST_CHUNK } from "./chunked.ts";
import { concatBytes } from "../pb/mod.ts";

/**
 * Client-side TLS for dialling peers: the peer certificate is presented as client certificate;
 * `rejectUnauthorized: false` with --peer-auto-tls (encrypt without authenticating the peer);
 * `servername` when the name to verify is not the URL host (an SRV domain, say).
 */
export type PeerClientTLS = Pick<
  tls.ConnectionOptions,
  "ca" | "cert" | "key" | "rejectUnauthorized" | "servername" | "checkServerIdentity"
>;

export interface ResponseHead {
  status: number;
  headers: Map<string, string>;
}

export interface Response extends ResponseHead {
  body: Uint8Array;
}

/** The host and port to dial for a peer URL (brackets off IPv6 literals). */
export function hostPort(url: URL): { host: string; port: number } {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port || (isTLSURL(url) ? 443 : 80));
  return { host, port };
}

/** Go's wording for dial failures, which etcd's log lines embed. */
export function dialErrorText(url: URL, err: unknown): string {
  const { host, port } = hostPort(url);
  const net = isUnixURL(url) ? "unix" : "tcp";
  const addr = isUnixURL(url)
    ? unixSocketPath(url)
    : host.includes(":")
    ? `[${host}]:${port}`
    : `${host}:${port}`;
  const code = (err as { code?: string })?.code;
  if (code === "ECONNREFUSED") return `dial ${net} ${addr}: connect: connection refused`;
  if (code === "ENOENT") return `dial ${net} ${addr}: connect: no such file or directory`;
  if (code === "ETIMEDOUT") return `dial ${net} ${addr}: i/o timeout`;
  if (code === "ECONNRESET") return `read ${net} ${addr}: read: connection reset by peer`;
  if (code === "EHOSTUNREACH") return `dial ${net} ${addr}: connect: no route to host`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Opens a connection to a peer URL; rejects with the socket error or a timeout. A unix or unixs
 * URL dials the socket file its host names; unixs verifies the certificate for the URL's
 * hostname, as Go's transport does once it has rewritten the scheme to https.
 */
export function dial(
  url: URL,
  tlsOpts: PeerClientTLS | undefined,
  timeoutMs: number,
): Promise<net.Socket> {
  const { host, port } = hostPort(url);
  const where = isUnixURL(url) ? { path: unixSocketPath(url) } : { host, port };
  return new Promise((resolve, reject) => {
    const secure = isTLSURL(url);
    const socket: net.Socket = secure
      ? tls.connect({
        ...where,
        ...tlsOpts,
        servername: tlsOpts?.servername ?? (net.isIP(host) ? undefined : host),
      })
      : net.connect(where);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error("i/o timeout"), { code: "ETIMEDOUT" }));
    }, timeoutMs);
    const failed = (err: unknown) => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once("error", failed);
    socket.once(secure ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      // Each user of the connection hears of its failure through its own listener or 'close'.
      // This one stays for the socket's life: an error with no listener left (a write the
      // peer refused by closing, between two requests) would end the process.
      socket.off("error", failed);
      socket.on("error", ignoreLateError);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    });
  });
}

function ignoreLateError(): void {}

export function requestHead(
  method: string,
  url: URL,
  path: string,
  headers: Record<string, string | number>,
): string {
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return head + "\r\n";
}

const decoder = new TextDecoder();

function indexOfHeadEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

/** Parses a response head; undefined until its blank line has arrived. */
export function parseHead(b: Uint8Array): { head: ResponseHead; bodyStart: number } | undefined {
  const end = indexOfHeadEnd(b);
  if (end < 0) return undefined;
  const lines = decoder.decode(b.subarray(0, end)).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) throw new Error(`malformed HTTP response ${JSON.stringify(lines[0])}`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
  }
  return { head: { status: Number(m[1]), headers }, bodyStart: end + 4 };
}

/**
 * The complete body after `start`, or undefined while more bytes are needed. `closed` says
 * the connection ended (a body delimited by close is then complete).
 */
export function parseBody(
  head: ResponseHead,
  b: Uint8Array,
  start: number,
  closed: boolean,
): Uint8Array | undefined {
  if (head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200)) {
    return new Uint8Array(0);
  }
  if (isChunked(head)) {
    const d = new ChunkedDecoder();
    const parts = d.push(b.subarray(start));
    return d.done ? concatBytes(parts) : undefined;
  }
  const cl = head.headers.get("content-length");
  if (cl !== undefined) {
    const n = Number(cl);
    return b.length - start >= n ? b.subarray(start, start + n) : undefined;
  }
  return closed ? b.subarray(start) : undefined;
}

export function isChunked(head: ResponseHead): boolean {
  return /chunked/i.test(head.headers.get("transfer-encoding") ?? "");
}

/** Reads one whole response from a socket whose request has been written. */
export function readResponse(socket: net.Socket, timeoutMs: number): Promise<Response> {
  return new Promise((resolve, reject) => {
    let buf = new Uint8Array(0);
    let parsed: ReturnType<typeof parseHead>;
    const finish = (err: unknown, res?: Response) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      socket.off("error", finish);
      if (res) resolve(res);
      else reject(err);
    };
    const attempt = (closed: boolean) => {
      try {
        parsed ??= parseHead(buf);
        if (parsed) {
          const body = parseBody(parsed.head, buf, parsed.bodyStart, closed);
          if (body) return finish(undefined, { ...parsed.head, body });
        }
        if (closed) finish(new Error("unexpected EOF"));
      } catch (err) {
        finish(err);
      }
    };
    const onData = (chunk: Uint8Array) => {
      const next = new Uint8Array(buf.length + chunk.length);
      next.set(buf);
      next.set(chunk, buf.length);
      buf = next;
      attempt(false);
    };
    const onEnd = () => attempt(true);
    const timer = setTimeout(
      () => finish(Object.assign(new Error("i/o timeout"), { code: "ETIMEDOUT" })),
      timeoutMs,
    );
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
    socket.once("error", finish);
  });
}

export interface RequestOptions {
  method: string;
  path: string;
  headers?: Record<string, string | number>;
  body?: Uint8Array[];
  /** A body of unknown length, sent chunked as it is read (a snapshot upload). */
  stream?: AsyncIterable<Uint8Array>;
  timeoutMs: number;
  tls?: PeerClientTLS;
  /** Aborting drops the connection (the transport closing). */
  signal?: AbortSignal;
}

const aborted = () => new Error("request aborted");

/** One request on its own connection (bootstrap look-ups, snapshot uploads, probes). */
export async function request(url: URL, opts: RequestOptions): Promise<Response> {
  const deadline = Date.now() + opts.timeoutMs;
  if (opts.signal?.aborted) throw aborted();
  const socket = await dial(url, opts.tls, opts.timeoutMs);
  try {
    return await exchange(socket, url, opts, deadline, false);
  } finally {
    socket.destroy();
  }
}

/**
 * Writes a request on an open connection and reads its answer, all before `deadline`; the
 * connection is left open (to be reused when `keepAlive`) unless something failed.
 */
export async function exchange(
  socket: net.Socket,
  url: URL,
  opts: RequestOptions,
  deadline: number,
  keepAlive: boolean,
): Promise<Response> {
  if (opts.signal?.aborted) throw aborted();
  // One deadline for the whole exchange, uploads included: a stalled peer cannot hold it.
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    socket.destroy();
  }, Math.max(1, deadline - Date.now()));
  const abort = () => socket.destroy();
  opts.signal?.addEventListener("abort", abort);
  try {
    const length = (opts.body ?? []).reduce((n, b) => n + b.length, 0);
    const headers: Record<string, string | number> = {
      ...opts.headers,
      Connection: keepAlive ? "keep-alive" : "close",
    };
    if (opts.body) headers["Content-Length"] = length;
    if (opts.stream) headers["Transfer-Encoding"] = "chunked";
    const response = readResponse(socket, Math.max(1, deadline - Date.now()));
    // A peer may answer (a rejection) before the upload ends: its answer wins over the
    // write error that follows when it closes.
    let writeError: unknown;
    try {
      socket.write(requestHead(opts.method, url, opts.path, headers));
      for (const part of opts.body ?? []) await writeAll(socket, part);
      if (opts.stream) {
        for await (const part of opts.stream) {
          if (part.length > 0) await writeAll(socket, encodeChunk(part));
        }
        await writeAll(socket, LAST_CHUNK);
      }
    } catch (err) {
      // The peer's answer, if it came before it closed, is still read from what arrived.
      writeError = err;
      socket.destroy();
    }
    try {
      return await response;
    } catch (err) {
      throw writeError ?? err;
    }
  } catch (err) {
    socket.destroy();
    throw timedOut ? Object.assign(new Error("i/o timeout"), { code: "ETIMEDOUT" }) : err;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", abort);
  }
}

const SLICE = 1024 * 1024;

/** Writes a large buffer in slices, waiting for the socket to drain between them. */
export async function writeAll(socket: net.Socket, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length; off += SLICE) {
    if (socket.destroyed) throw new Error("connection closed");
    if (!socket.write(data.subarray(off, off + SLICE))) {
      await new Promise<void>((resolve, reject) => {
        const done = (err?: unknown) => {
          socket.off("drain", done);
          socket.off("close", closed);
          if (err) reject(err);
          else resolve();
        };
        const closed = () => done(new Error("connection closed"));
        socket.once("drain", done);
        socket.once("close", closed);
      });
    }
  }
}
