// The HTTP/2 server of one client URL scheme, fed the connections found to speak HTTP/2: the
// lean server (src/h2) or, with ETCD_TS_HTTP2=node, node:http2. Both apply
// --max-concurrent-streams and, where asked, gRPC keepalive (pings to idle clients, GOAWAY
// ENHANCE_YOUR_CALM to clients that ping too often).
import http2 from "node:http2";
import type net from "node:net";
import {
  ConnectionKeepalive,
  ErrorCode,
  type KeepaliveParams,
  ServerConnection,
  type ServerStream,
  TOO_MANY_PINGS,
} from "../h2/mod.ts";
import { NodeServerStream } from "./node_stream.ts";

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

export interface Http2Server {
  serve(socket: net.Socket): void;
  /** Ends the open connections before the listener drops their sockets. */
  close(): Promise<void>;
}

export interface Http2ServerOptions {
  route(stream: ServerStream): void;
  /** SETTINGS_MAX_CONCURRENT_STREAMS; undefined or 0 for no limit (as grpc-go's 0). */
  maxConcurrentStreams?: number;
  keepalive?: KeepaliveParams;
}

export function http2Server(impl: Http2Implementation, opts: Http2ServerOptions): Http2Server {
  const maxConcurrentStreams = opts.maxConcurrentStreams || undefined;
  return impl === "lean"
    ? leanServer({ ...opts, maxConcurrentStreams })
    : nodeServer({ ...opts, maxConcurrentStreams });
}

function leanServer(opts: Http2ServerOptions): Http2Server {
  const conns = new Set<ServerConnection>();
  return {
    serve: (socket) => {
      const conn = new ServerConnection(socket, {
        onStream: opts.route,
        maxConcurrentStreams: opts.maxConcurrentStreams,
        keepalive: opts.keepalive,
      });
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

function nodeServer(opts: Http2ServerOptions): Http2Server {
  const { maxConcurrentStreams, keepalive } = opts;
  const h2 = http2.createServer(
    maxConcurrentStreams === undefined ? {} : { settings: { maxConcurrentStreams } },
  );
  const sessions = new WeakMap<http2.Http2Session, SessionKeepalive>();
  // node:http2 makes the session while the connection is handed over: this is its socket.
  let handedOver: net.Socket | undefined;
  h2.on("session", (session: http2.ServerHttp2Session) => {
    if (keepalive && handedOver) {
      sessions.set(session, new SessionKeepalive(session, handedOver, keepalive));
    }
  });
  h2.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    const ka = stream.session ? sessions.get(stream.session) : undefined;
    ka?.opened(stream);
    opts.route(new NodeServerStream(stream, headers, ka && (() => ka.sent())));
  });
  h2.on("sessionError", () => {});
  return {
    serve: (socket) => {
      handedOver = socket;
      h2.emit("connection", socket);
      handedOver = undefined;
    },
    close: () => Promise.resolve(),
  };
}

// Keepalive on a node:http2 session. node:http2 does not say when bytes arrive, so new streams,
// the client's pings and the answers to ours count as signs of life (a client answering our
// pings is never dropped; an active one may be pinged more often than by grpc-go).
class SessionKeepalive {
  readonly #ka: ConnectionKeepalive;
  #open = 0;
  #lastStreamId = 0;

  constructor(session: http2.ServerHttp2Session, socket: net.Socket, params: KeepaliveParams) {
    this.#ka = new ConnectionKeepalive(params, {
      ping: () => {
        try {
          session.ping(() => this.#ka.read());
        } catch {
          // the session is closing
        }
      },
      // grpc-go closes the connection without a word (session.destroy() would add a GOAWAY).
      close: () => socket.destroy(),
    });
    session.on("ping", () => {
      this.#ka.read();
      if (!this.#ka.ping(this.#open)) return;
      session.goaway(
        ErrorCode.ENHANCE_YOUR_CALM,
        this.#lastStreamId,
        encoder.encode(TOO_MANY_PINGS),
      );
      // Once the GOAWAY is out, the connection ends with every stream on it.
      setTimeout(() => socket.destroy(), 0);
    });
    session.once("close", () => this.#ka.stop());
  }

  opened(stream: http2.ServerHttp2Stream): void {
    this.#ka.read();
    this.#open++;
    this.#lastStreamId = Math.max(this.#lastStreamId, stream.id ?? 0);
    stream.once("close", () => this.#open--);
  }

  sent(): void {
    this.#ka.sent();
  }
}

const encoder = new TextEncoder();
