// One client URL, every protocol (DESIGN.md "One port, every protocol"). Each accepted
// connection is classified and handed to a protocol server that never listens itself (an
// http:// and an https:// URL of one address share the port, as etcd's cmux has them: a
// connection that starts with a TLS handshake record is TLS, any other is plain):
//  - HTTP/2 (h2c prior knowledge on plain ports; ALPN "h2" or the preface on TLS ports) goes to
//    the lean HTTP/2 server (src/h2) or, with ETCD_TS_HTTP2=node, to node:http2. Either
//    routes each *request*: content-type application/grpc* -> gRPC, anything else -> the HTTP
//    app (curl negotiates HTTP/2 on TLS ports);
//  - everything else goes to a node:http server running the HTTP app.
// The hand-off puts the sniffed bytes back with unshift() before the protocol server reads the
// socket. This works on Deno 2.9's node:http2 and node:http, which read sockets through their
// JS stream interface. (Node itself reads net.Socket handles natively and would lose the
// unshifted bytes there.) TLS is terminated by node:tls rather than
// http2.createSecureServer so plain and TLS ports share the same routing, and so that an h2
// session never gets node's compatibility request/response objects, which would race the gRPC
// trailers. The lean server exists because node:http2 costs several times what a request
// needs and, on Deno 2.9, refuses an :authority that is not host[:port] (etcdctl 3.4 sends its
// whole endpoint URL there for endpoint status, hashkv and defrag).

import http from "node:http";
import net from "node:net";
import type tls from "node:tls";
import { createLogger, type Logger } from "../log/mod.ts";
import {
  boundAddress,
  boundPort,
  createSecureServer,
  isSecureListenURL,
  listenOn,
  type ServerTLS,
} from "../tls/mod.ts";
import type { GrpcServer } from "./grpc/mod.ts";
import { setPeerCertificate, verifiedPeerCertificate } from "./http/mod.ts";
import { type FetchHandler, serveFetchStream } from "./fetch_stream.ts";
import type { KeepaliveParams, ServerStream } from "../h2/mod.ts";
import { limitGatewayStreams, StreamQuota } from "./gateway_quota.ts";
import {
  type Http2Implementation,
  http2Implementation,
  type Http2Server,
  http2Server,
} from "./listener_h2.ts";

export { type Http2Implementation, http2Implementation } from "./listener_h2.ts";

/** Refused connections are only logged when the caller gives a logger. */
export const silentLog: Logger = createLogger({
  logger: "capnslog",
  level: "info",
  outputs: ["stderr"],
  write: () => {},
});

export interface ServeClientOptions {
  /** Absent on a metrics URL: every request goes to the HTTP app. */
  grpc?: GrpcServer;
  http: FetchHandler;
  /** Certificates and client-auth settings; required for https:// and unixs:// URLs. */
  tls?: ServerTLS | tls.TlsOptions;
  /** A secure URL's port also serves plain connections (an http:// URL of the same address). */
  alsoPlain?: boolean;
  /** Where refused TLS connections are logged (etcd's `rejected connection from ...`). */
  log?: Logger;
  /**
   * SETTINGS_MAX_CONCURRENT_STREAMS per connection (--max-concurrent-streams; 0 for none), and
   * the cap on the JSON gateway's calls of each scheme together (etcd's gateway is one gRPC
   * connection to its own port).
   */
  maxConcurrentStreams?: number;
  /**
   * gRPC keepalive on plain HTTP/2 connections. etcd 3.4 serves gRPC over TLS through Go's
   * net/http server, which neither pings idle clients nor limits their pings.
   */
  keepalive?: KeepaliveParams;
  /** Default: http2Implementation(). */
  http2?: Http2Implementation;
}

export interface ClientListener {
  /** The bound address (the real port when the URL asked for port 0; port 0 for unix sockets). */
  address: net.AddressInfo;
  /** The address as etcd logs it: host:port, or the unix socket's path. */
  addr: string;
  /** Stops accepting and drops every open connection (watch streams never end by themselves). */
  close(): Promise<void>;
}

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

// Reads until the bytes either are or cannot be the HTTP/2 client preface, then puts them back.
function sniff(socket: net.Socket, done: (isHttp2: boolean) => void): void {
  let seen = new Uint8Array(0);
  const decide = () => {
    for (let chunk = socket.read(); chunk !== null; chunk = socket.read()) {
      const next = new Uint8Array(seen.length + chunk.length);
      next.set(seen);
      next.set(chunk, seen.length);
      seen = next;
    }
    const n = Math.min(seen.length, PREFACE.length);
    let matches = true;
    for (let i = 0; i < n && matches; i++) matches = seen[i] === PREFACE[i];
    if (matches && seen.length < PREFACE.length) return; // need more bytes
    socket.off("readable", decide);
    if (seen.length > 0) socket.unshift(seen);
    done(matches);
  };
  socket.on("readable", decide);
  // Bytes put back by an earlier look (the TLS front's first byte) raise no new event.
  if (socket.readableLength > 0) decide();
}

/** The protocol servers of one scheme of a client port. */
interface SchemeServers {
  /** A connection of this scheme; `h2` when TLS's ALPN already said HTTP/2. */
  serve(socket: net.Socket, h2?: boolean): void;
  close(): Promise<void>;
}

function schemeServers(opts: ServeClientOptions, scheme: "http" | "https"): SchemeServers {
  const limit = opts.maxConcurrentStreams || 0;
  const app = limit > 0 ? limitGatewayStreams(opts.http, new StreamQuota(limit)) : opts.http;
  const h2: Http2Server = http2Server(opts.http2 ?? http2Implementation(), {
    route: requestRouter(opts.grpc, app, scheme),
    maxConcurrentStreams: limit,
    keepalive: scheme === "http" ? opts.keepalive : undefined,
  });
  const h1 = http1Server(app);
  return {
    serve: (socket, isH2) => {
      if (isH2) return h2.serve(socket);
      sniff(socket, (isHttp2) => isHttp2 ? h2.serve(socket) : h1.emit("connection", socket));
    },
    close: () => h2.close(),
  };
}

export async function serveClient(url: URL, opts: ServeClientOptions): Promise<ClientListener> {
  const secure = isSecureListenURL(url, "client", opts.tls !== undefined);
  const plain = !secure || opts.alsoPlain === true ? schemeServers(opts, "http") : undefined;
  const encrypted = secure ? schemeServers(opts, "https") : undefined;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };

  let server: net.Server;
  if (encrypted) {
    server = createSecureServer(opts.tls!, {
      log: opts.log ?? silentLog,
      tls: { ALPNProtocols: ["h2", "http/1.1"] },
      onSecure: (socket) => {
        socket.on("error", () => socket.destroy());
        encrypted.serve(socket, socket.alpnProtocol === "h2");
      },
      onPlain: plain && ((raw) => plain.serve(raw)),
    });
    server.on("connection", track);
  } else {
    server = net.createServer((socket) => {
      track(socket);
      plain!.serve(socket);
    });
  }

  await listenOn(server, url);
  const addr = boundAddress(server);
  const bound = server.address();

  return {
    address: typeof bound === "object" && bound !== null
      ? bound
      : { address: addr, family: "unix", port: boundPort(server) },
    addr,
    close: async () => {
      await Promise.all([plain?.close(), encrypted?.close()]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

/** Routes each HTTP/2 request: gRPC by its content-type, anything else to the HTTP app. */
function requestRouter(
  grpc: GrpcServer | undefined,
  app: FetchHandler,
  scheme: "http" | "https",
): (stream: ServerStream) => void {
  return (stream) => {
    const contentType = stream.headers["content-type"];
    if (grpc && typeof contentType === "string" && contentType.startsWith("application/grpc")) {
      grpc.handleStream(stream);
    } else void serveFetchStream(stream, app, scheme);
  };
}

/** HTTP/1.1 connections go to a node:http server running the HTTP app. */
function http1Server(app: FetchHandler): http.Server {
  // The adapter loads while the member starts (it waits for its election then), not before.
  const serveH1 = requestListener(app);
  const h1 = http.createServer(async (req, res) => {
    // Deno 2.9's node:http answers one request on a connection handed over with
    // emit("connection") and then closes it. Saying so keeps Go clients (etcd's discovery
    // client, etcdctl v2) from sending their next request into the closing socket.
    res.setHeader("Connection", "close");
    return (await serveH1)(req, res);
  });
  h1.on("clientError", (_err, socket) => socket.destroy());
  return h1;
}

/** @hono/node-server's adapter from node:http to the fetch handler, with the peer's cert. */
async function requestListener(app: FetchHandler): Promise<http.RequestListener> {
  const { getRequestListener } = await import("@hono/node-server");
  return getRequestListener((req, env) => {
    setPeerCertificate(req, verifiedPeerCertificate(env.incoming.socket));
    return app(req);
  }, { overrideGlobalObjects: false });
}
