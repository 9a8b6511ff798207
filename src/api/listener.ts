// One client URL, every protocol (DESIGN.md "One port, every protocol"). Each accepted
// connection is classified and handed to a protocol server that never listens itself:
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
import http2 from "node:http2";
import net from "node:net";
import type tls from "node:tls";
import { createLogger, type Logger } from "../log/mod.ts";
import { createSecureServer, type ServerTLS } from "../tls/mod.ts";
import { getRequestListener } from "@hono/node-server";
import type { GrpcServer } from "./grpc/mod.ts";
import { type FetchHandler, serveFetchStream } from "./fetch_stream.ts";
import { ServerConnection, type ServerStream } from "../h2/mod.ts";
import { NodeServerStream } from "./node_stream.ts";
import { setPeerCertificate, verifiedPeerCertificate } from "./http/mod.ts";
import { isSecureListenURL, listenOn } from "../tls/mod.ts";

/** Which HTTP/2 server implementation serves client ports. */
export type Http2Implementation = "lean" | "node";

/** ETCD_TS_HTTP2=node|lean (default lean): the one switch between the two HTTP/2 servers. */
export function http2Implementation(): Http2Implementation {
  let v: string | undefined;
  try {
    v = Deno.env.get("ETCD_TS_HTTP2");
  } catch {
    v = undefined; // no env permission: the default
  }
  if (v === undefined || v === "" || v === "lean") return "lean";
  if (v === "node") return "node";
  throw new Error(`ETCD_TS_HTTP2 must be "lean" or "node", not ${JSON.stringify(v)}`);
}

/** Refused connections are only logged when the caller gives a logger. */
export const silentLog: Logger = createLogger({
  logger: "capnslog",
  level: "info",
  outputs: ["stderr"],
  write: () => {},
});

export interface ServeClientOptions {
  grpc: GrpcServer;
  http: FetchHandler;
  /** Certificates and client-auth settings; required for https:// URLs. */
  tls?: ServerTLS | tls.TlsOptions;
  /** Where refused TLS connections are logged (etcd's `rejected connection from ...`). */
  log?: Logger;
  /** SETTINGS_MAX_CONCURRENT_STREAMS per connection (--max-concurrent-streams). */
  maxConcurrentStreams?: number;
  /** Default: http2Implementation(). */
  http2?: Http2Implementation;
}

export interface ClientListener {
  /** The bound address (the real port when the URL asked for port 0). */
  address: net.AddressInfo;
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
}

export async function serveClient(url: URL, opts: ServeClientOptions): Promise<ClientListener> {
  const secure = isSecureListenURL(url, "client", opts.tls !== undefined);
  const route = requestRouter(opts, secure ? "https" : "http");
  const h2 = http2Server(opts.http2 ?? http2Implementation(), route, opts.maxConcurrentStreams);
  const h1 = http1Server(opts.http);
  const handOff = (socket: net.Socket) => {
    sniff(socket, (isHttp2) => isHttp2 ? h2.serve(socket) : h1.emit("connection", socket));
  };
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };

  let server: net.Server;
  if (secure) {
    server = createSecureServer(opts.tls!, {
      log: opts.log ?? silentLog,
      tls: { ALPNProtocols: ["h2", "http/1.1"] },
      onSecure: (socket) => {
        socket.on("error", () => socket.destroy());
        if (socket.alpnProtocol === "h2") h2.serve(socket);
        else handOff(socket);
      },
    });
    server.on("connection", track);
  } else {
    server = net.createServer((socket) => {
      track(socket);
      handOff(socket);
    });
  }

  await listenOn(server, url);

  return {
    address: server.address() as net.AddressInfo,
    close: async () => {
      await h2.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

/** Routes each HTTP/2 request: gRPC by its content-type, anything else to the HTTP app. */
function requestRouter(
  opts: ServeClientOptions,
  scheme: "http" | "https",
): (stream: ServerStream) => void {
  return (stream) => {
    const contentType = stream.headers["content-type"];
    if (typeof contentType === "string" && contentType.startsWith("application/grpc")) {
      opts.grpc.handleStream(stream);
    } else void serveFetchStream(stream, opts.http, scheme);
  };
}

/** The HTTP/2 server of a client URL, fed the connections found to speak HTTP/2. */
interface Http2Server {
  serve(socket: net.Socket): void;
  /** Ends the open connections before the listener drops their sockets. */
  close(): Promise<void>;
}

function http2Server(
  implementation: Http2Implementation,
  route: (stream: ServerStream) => void,
  maxConcurrentStreams: number | undefined,
): Http2Server {
  if (implementation === "lean") {
    const conns = new Set<ServerConnection>();
    return {
      serve: (socket) => {
        const conn = new ServerConnection(socket, { onStream: route, maxConcurrentStreams });
        conns.add(conn);
        conn.closed.then(() => conns.delete(conn));
      },
      // Lean connections say GOAWAY first and get a moment to flush it.
      close: async () => {
        if (conns.size === 0) return;
        const gone = Promise.all([...conns].map((c) => c.closed));
        for (const c of conns) c.close();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([gone, new Promise((r) => (timer = setTimeout(r, 200)))]);
        clearTimeout(timer);
      },
    };
  }
  const h2 = http2.createServer(
    maxConcurrentStreams === undefined ? {} : { settings: { maxConcurrentStreams } },
  );
  h2.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    route(new NodeServerStream(stream, headers));
  });
  h2.on("sessionError", () => {});
  return { serve: (socket) => h2.emit("connection", socket), close: () => Promise.resolve() };
}

/** HTTP/1.1 connections go to a node:http server running the HTTP app. */
function http1Server(app: FetchHandler): http.Server {
  const serveH1 = getRequestListener((req, env) => {
    setPeerCertificate(req, verifiedPeerCertificate(env.incoming.socket));
    return app(req);
  }, { overrideGlobalObjects: false });
  const h1 = http.createServer((req, res) => {
    // Deno 2.9's node:http answers one request on a connection handed over with
    // emit("connection") and then closes it. Saying so keeps Go clients (etcd's discovery
    // client, etcdctl v2) from sending their next request into the closing socket.
    res.setHeader("Connection", "close");
    return serveH1(req, res);
  });
  h1.on("clientError", (_err, socket) => socket.destroy());
  return h1;
}
