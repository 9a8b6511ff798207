// Binding a listener to a client or peer URL the way etcd does: http and https on TCP, unix
// and unixs on a unix socket whose path is the URL's host ("unix://localhost:2379" listens on
// the file "localhost:2379" in the working directory, as etcd's transport.NewListener).
import type net from "node:net";

/** Go's net/http binds "localhost" to 127.0.0.1; URLs carry IPv6 hosts in brackets. */
export function listenHost(url: URL): string {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return host === "localhost" ? "127.0.0.1" : host;
}

/** unix:// and unixs:// URLs name a socket file rather than a TCP address. */
export function isUnixURL(url: URL): boolean {
  return url.protocol === "unix:" || url.protocol === "unixs:";
}

/** https:// and unixs:// are served with TLS. */
export function isTLSURL(url: URL): boolean {
  return url.protocol === "https:" || url.protocol === "unixs:";
}

/** The socket file of a unix URL: its host and port as written. */
export function unixSocketPath(url: URL): string {
  return url.host;
}

/** Whether a URL to listen on is secure; refuses other schemes, and TLS without certificates. */
export function isSecureListenURL(url: URL, kind: "client" | "peer", hasTLS: boolean): boolean {
  const secure = isTLSURL(url);
  if (!secure && url.protocol !== "http:" && url.protocol !== "unix:") {
    throw new Error(`unsupported ${kind} URL scheme ${url.protocol} (${url})`);
  }
  if (secure && !hasTLS) throw new Error(`TLS certificates are required for ${url}`);
  return secure;
}

export interface ListenOptions {
  /** Remove a socket file left behind by an earlier run first (etcd does for peer URLs). */
  removeStaleSocket?: boolean;
}

/**
 * Binds `server` to the URL's socket file, or its host and port (443 or 80 by scheme when the
 * URL has none). A unix socket's file is removed when the server closes.
 */
export function listenOn(server: net.Server, url: URL, opts: ListenOptions = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = () => {
      server.off("error", reject);
      resolve();
    };
    if (isUnixURL(url)) {
      if (opts.removeStaleSocket) removeIfPresent(unixSocketPath(url));
      server.listen(unixSocketPath(url), done);
    } else {
      server.listen(Number(url.port || (isTLSURL(url) ? 443 : 80)), listenHost(url), done);
    }
  });
}

function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** A bound listener's address as Go prints a net.Addr: host:port (IPv6 in brackets), or the path. */
export function boundAddress(server: net.Server): string {
  const a = server.address();
  if (a === null) return "";
  if (typeof a === "string") return a;
  return a.family === "IPv6" ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** The bound TCP port; 0 for a unix socket. */
export function boundPort(server: net.Server): number {
  const a = server.address();
  return a !== null && typeof a === "object" ? a.port : 0;
}

const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "cannot assign requested address",
  EACCES: "permission denied",
  ENOENT: "no such file or directory",
};

/** Go's error for a listener that could not bind: `listen tcp 127.0.0.1:2379: bind: ...`. */
export function listenErrorText(url: URL, err: unknown): string {
  const code = (err as { code?: string })?.code ?? "";
  const reason = BIND_ERRORS[code] ?? (err instanceof Error ? err.message : String(err));
  return `listen ${isUnixURL(url) ? "unix" : "tcp"} ${url.host}: bind: ${reason}`;
}
