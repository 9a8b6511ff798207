// What etcd's TLS listener does around each handshake, in front of a node:tls server: a
// connection whose first byte is not a TLS handshake record is closed without a reply, the
// key pair is re-read when its files change (rotation without restart), each handshaken
// connection passes verifyPeerConnection before it is served, and every refused connection
// is logged once as etcd logs it.
import net from "node:net";
import tls from "node:tls";
import type { Buffer } from "node:buffer";
import type { Logger } from "../log/mod.ts";
import { loadKeyPair } from "./files.ts";
import { certNames } from "./names.ts";
import { addrOf, goHandshakeError, logRejected, type Rejection } from "./rejection.ts";
import { SERVER_POLICY, type ServerTLS, type ServerTLSInfo } from "./server.ts";
import {
  type ConnectionPolicy,
  presentedChain,
  type Resolver,
  verifyPeerConnection,
} from "./verify.ts";

export interface SecureServerOptions {
  log: Logger;
  /** Receives each connection that passed the handshake and etcd's checks. */
  onSecure(socket: tls.TLSSocket): void;
  /**
   * Receives each connection whose first byte is not a TLS handshake (back in the socket):
   * etcd serves an http:// and an https:// URL of one address on one port. Without it such
   * connections are refused, as by etcd's TLS listener.
   */
  onPlain?(raw: net.Socket): void;
  /** Options added to the server's (ALPNProtocols, say). */
  tls?: tls.TlsOptions;
  resolver?: Resolver;
}

const TLS_HANDSHAKE_RECORD = 0x16;

/** The SNI name the client sent ("" for none, as Go's ServerName). */
const serverNameOf = (s: tls.TLSSocket) =>
  (s as unknown as { servername?: string | null | false }).servername || "";

/**
 * A net.Server to listen with: TLS per `serverTLS` (from loadServerTLS, or plain node options
 * where only the handshake's own verification applies) and etcd's checks before `onSecure`.
 * Its "connection" event gives the raw TCP sockets (to track and destroy on close).
 */
export function createSecureServer(
  serverTLS: ServerTLS | tls.TlsOptions,
  opts: SecureServerOptions,
): net.Server {
  const info = (serverTLS as Partial<ServerTLS>)[SERVER_POLICY];
  const policy: ConnectionPolicy = info?.policy ?? {
    requireClientCert: serverTLS.requestCert === true && serverTLS.rejectUnauthorized !== false,
    allowedCN: [],
    allowedHostname: [],
    crlFile: "",
    checkSAN: false,
  };
  let nodeOpts: tls.TlsOptions = { ...serverTLS, ...opts.tls };
  // The verdict on the client certificate is read after the handshake so that the refusal
  // can be logged with its reason (and the certificate's names), as etcd logs it.
  if (policy.requireClientCert) {
    nodeOpts = { ...nodeOpts, requestCert: true, rejectUnauthorized: false };
  }
  const tlsServer = tls.createServer(nodeOpts);
  const reject = rejecter(opts.log);
  const refreshKeyPair = keyPairReloader(info, tlsServer, nodeOpts);
  checkHandshakes(tlsServer, policy, opts, reject);

  return net.createServer((raw) => {
    raw.on("error", () => raw.destroy());
    raw.once("readable", () => {
      const first = raw.read(1) as Buffer | null;
      if (first === null) return reject(raw, { error: "EOF", serverName: "" });
      raw.unshift(first);
      if (first[0] !== TLS_HANDSHAKE_RECORD && opts.onPlain) return opts.onPlain(raw);
      if (first[0] !== TLS_HANDSHAKE_RECORD) {
        return reject(raw, {
          error: "tls: first record does not look like a TLS handshake",
          serverName: "",
        });
      }
      const err = refreshKeyPair();
      if (err !== undefined) return reject(raw, { error: err, serverName: "" });
      tlsServer.emit("connection", raw);
    });
  });
}

type Reject = (raw: net.Socket, r: Omit<Rejection, "remoteAddr">, sock?: tls.TLSSocket) => void;

/** Closes a refused connection, logging it once (a handshake can fail in several ways at once). */
function rejecter(log: Logger): Reject {
  const logged = new WeakSet<object>();
  return (raw, r, sock) => {
    if (!logged.has(raw)) {
      logged.add(raw);
      logRejected(log, { remoteAddr: addrOf(raw), ...r });
    }
    sock?.destroy();
    raw.destroy();
  };
}

const rawOf = (s: tls.TLSSocket) => (s as unknown as { _parent?: net.Socket })._parent ?? s;

/** Refuses failed handshakes, and serves a handshaken connection once it passes etcd's checks. */
function checkHandshakes(
  tlsServer: tls.Server,
  policy: ConnectionPolicy,
  opts: SecureServerOptions,
  reject: Reject,
): void {
  tlsServer.on("tlsClientError", (err: Error, sock: tls.TLSSocket) => {
    reject(rawOf(sock), { error: goHandshakeError(err), serverName: serverNameOf(sock) }, sock);
  });
  tlsServer.on("secureConnection", (sock: tls.TLSSocket) => {
    const raw = rawOf(sock);
    sock.on("error", () => sock.destroy());
    verifyPeerConnection(sock, policy, { resolver: opts.resolver }).then((error) => {
      if (error === undefined) {
        if (!sock.destroyed) opts.onSecure(sock);
        return;
      }
      // Go keeps the client's certificates (and etcd logs their names) only once the chain
      // was verified: an untrusted or expired certificate is logged without them.
      const verified = !policy.requireClientCert || sock.authorized;
      const leaf = verified ? presentedChain(sock)[0] : undefined;
      const names = leaf ? certNames(leaf) : undefined;
      reject(raw, {
        error,
        serverName: serverNameOf(sock),
        ips: names?.ips,
        dnsNames: names?.dnsNames,
      }, sock);
    }, (err) => reject(raw, { error: String(err), serverName: "" }, sock));
  });
}

/**
 * Go re-reads the key pair on every handshake; re-reading only when the files change gives the
 * same rotation without parsing keys per connection. The returned check gives the load error,
 * with which the connection is refused.
 */
function keyPairReloader(
  info: ServerTLSInfo | undefined,
  tlsServer: tls.Server,
  nodeOpts: tls.TlsOptions,
): () => string | undefined {
  if (!info) return () => undefined;
  let stamp = fileStamp([info.certFile, info.keyFile]);
  return () => {
    const now = fileStamp([info.certFile, info.keyFile]);
    if (now && stamp && now.key === stamp.key) return undefined;
    try {
      const pair = loadKeyPair(info.certFile, info.keyFile);
      nodeOpts = { ...nodeOpts, cert: pair.cert, key: pair.key };
      tlsServer.setSecureContext(nodeOpts);
      stamp = now;
      return undefined;
    } catch (err) {
      stamp = undefined;
      return (err as Error).message;
    }
  };
}

// What tells that a file changed: its inode (a rename over it), size and modification time.
interface Stamp {
  key: string;
}

function fileStamp(paths: string[]): Stamp | undefined {
  try {
    return {
      key: paths.map((p) => {
        const st = Deno.statSync(p);
        return `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
      }).join("|"),
    };
  } catch {
    return undefined;
  }
}
