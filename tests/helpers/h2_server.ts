// Fixtures for the lean HTTP/2 server tests: a stub gRPC service (KV Put/Range in memory, a
// Watch that never ends, a server-streaming method that sends large responses), a listener on
// 127.0.61.x, and a raw client that writes arbitrary bytes and records every frame it gets.

import * as net from "node:net";
import * as tls from "node:tls";
import {
  CONNECTION_PREFACE,
  encodeFrame,
  type Frame,
  FrameParser,
  FrameType,
  type HeaderList,
  HpackDecoder,
  HpackEncoder,
  type SettingPair,
} from "../../src/h2/mod.ts";
import { type ClientListener, GrpcServer, serveClient } from "../../src/api/mod.ts";

export const HOST = "127.0.61.2";
const td = new TextDecoder();

export function stubGrpc(): GrpcServer {
  const store = new Map<string, Uint8Array>();
  const header = { clusterId: 1n, memberId: 2n, revision: 3, raftTerm: 4 };
  const g = new GrpcServer({ maxReceiveMessageSize: 4 * 1024 * 1024 });
  g.addService("etcdserverpb.KV", {
    Put: (req) => {
      store.set(td.decode(req.key), req.value);
      return Promise.resolve({ header });
    },
    Range: (req) => {
      const value = store.get(td.decode(req.key));
      const kvs = value ? [{ key: req.key, value, createRevision: 1, modRevision: 1 }] : [];
      return Promise.resolve({ header, kvs, count: kvs.length });
    },
  });
  g.addService("etcdserverpb.Watch", {
    // Never ends by itself: answers "created" per request until the client goes away.
    Watch: async (requests, send) => {
      for await (const _ of requests) await send({ header, watchId: 1, created: true });
    },
  });
  return g;
}

export interface Server {
  listener: ClientListener;
  port: number;
  close(): Promise<void>;
}

export async function startLean(
  opts: { maxConcurrentStreams?: number; grpc?: GrpcServer } = {},
): Promise<Server> {
  const listener = await serveClient(new URL(`http://${HOST}:0`), {
    grpc: opts.grpc ?? stubGrpc(),
    http: (req) => {
      // /hold answers only when the client goes away, and never reads the request body.
      if (new URL(req.url).pathname !== "/hold") {
        return Promise.resolve(new Response(`hello ${req.headers.get("x-authority") ?? ""}`));
      }
      return new Promise((resolve) =>
        req.signal.addEventListener("abort", () => resolve(new Response("late")))
      );
    },
    maxConcurrentStreams: opts.maxConcurrentStreams,
    http2: "lean",
  });
  return { listener, port: listener.address.port, close: () => listener.close() };
}

/** A client that speaks raw frames: nothing is checked on the way out. */
export class RawClient {
  readonly frames: Frame[] = [];
  /** Decoded header blocks per stream, in arrival order (decoded on arrival: HPACK state). */
  readonly blocks = new Map<number, HeaderList[]>();
  readonly enc = new HpackEncoder();
  readonly dec = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
  closed = false;
  /** Answer the server's PINGs (a live client); off, the client plays dead. */
  answerPings = false;
  private waiters: (() => void)[] = [];
  private readonly parser = new FrameParser({ maxFrameSize: 1 << 24 });

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Uint8Array) => {
      this.parser.push(chunk, (f) => {
        if (f.type === FrameType.HEADERS) {
          const list = this.blocks.get(f.streamId) ?? [];
          list.push(this.dec.decode(f.headerBlock)); // the server never needs CONTINUATION here
          this.blocks.set(f.streamId, list);
        }
        if (f.type === FrameType.PING && !f.ack && this.answerPings) {
          this.send({ type: FrameType.PING, ack: true, opaqueData: f.opaqueData.slice() });
        }
        this.frames.push(f);
        this.wake();
      }, () => {});
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
  }

  static async connect(
    port: number,
    opts: {
      preface?: boolean;
      settings?: SettingPair[];
      /** Default HOST. */
      host?: string;
      /** A unix socket's path in place of host and port. */
      path?: string;
      /** Dial with TLS (ALPN h2), trusting `ca`. */
      tls?: { ca: string };
    } = {},
  ): Promise<RawClient> {
    const where = opts.path !== undefined ? { path: opts.path } : { host: opts.host ?? HOST, port };
    const socket = opts.tls
      ? tls.connect({ ...where, ca: opts.tls.ca, ALPNProtocols: ["h2"], servername: "localhost" })
      : net.connect(where);
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? "secureConnect" : "connect", resolve);
      socket.once("error", reject);
    });
    const c = new RawClient(socket);
    if (opts.preface ?? true) {
      c.raw(CONNECTION_PREFACE);
      c.send({ type: FrameType.SETTINGS, ack: false, settings: opts.settings ?? [] });
    }
    return c;
  }

  raw(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  send(f: Frame): void {
    this.raw(encodeFrame(f));
  }

  headers(streamId: number, list: HeaderList, endStream: boolean): void {
    this.send({
      type: FrameType.HEADERS,
      streamId,
      endStream,
      endHeaders: true,
      headerBlock: this.enc.encode(list),
    });
  }

  /** Resolves with the first recorded frame matching; rejects after `ms`. */
  async waitFor(pred: (f: Frame) => boolean, ms = 3000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (this.closed) throw new Error("connection closed while waiting for a frame");
      if (Date.now() > deadline) throw new Error("timed out waiting for a frame");
      await this.nextEvent(deadline);
    }
  }

  /** Resolves once the server closed the connection. */
  async waitClosed(ms = 3000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("connection still open");
      await this.nextEvent(deadline);
    }
  }

  /** Resolves at the next frame or close, or at the deadline. */
  private nextEvent(deadline: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(r, Math.max(0, deadline - Date.now()) + 1);
      this.waiters.push(() => {
        clearTimeout(t);
        r();
      });
    });
  }

  goaway(): Promise<Frame> {
    return this.waitFor((f) => f.type === FrameType.GOAWAY);
  }

  rst(streamId: number): Promise<Frame> {
    return this.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === streamId);
  }

  dataBytes(streamId: number): number {
    let n = 0;
    for (const f of this.frames) {
      if (f.type === FrameType.DATA && f.streamId === streamId) n += f.data.length;
    }
    return n;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** gRPC request headers for `path` with any :authority. */
export function grpcHeaders(path: string, authority = `${HOST}`): HeaderList {
  return [
    [":method", "POST"],
    [":scheme", "http"],
    [":path", path],
    [":authority", authority],
    ["content-type", "application/grpc"],
    ["te", "trailers"],
  ];
}
