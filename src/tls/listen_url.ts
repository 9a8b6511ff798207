// Binding a listener to a client or peer URL the way etcd does.
import type net from "node:net";

/** Go's net/http binds "localhost" to 127.0.0.1; URLs carry IPv6 hosts in brackets. */
export function listenHost(url: URL): string {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return host === "localhost" ? "127.0.0.1" : host;
}

/** Whether a URL to listen on is https; refuses other schemes, and https without certificates. */
export function isSecureListenURL(url: URL, kind: "client" | "peer", hasTLS: boolean): boolean {
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") {
    throw new Error(`unsupported ${kind} URL scheme ${url.protocol} (${url})`);
  }
  if (secure && !hasTLS) throw new Error(`TLS certificates are required for ${url}`);
  return secure;
}

/** Binds `server` to the URL's host and port (443 or 80 by scheme when the URL has none). */
export function listenOn(server: net.Server, url: URL): Promise<void> {
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, listenHost(url), () => {
      server.off("error", reject);
      resolve();
    });
  });
}
