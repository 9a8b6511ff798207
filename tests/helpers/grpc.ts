// Test fixtures: a client port on 127.0.60.x with a port the OS picks, grpc-js calls that
// use our codecs as serializers, and a raw HTTP/2 client to look at frames grpc-js hides.

import * as grpc from "@grpc/grpc-js";
import http2 from "node:http2";
import { type ClientListener, createHttpApp, GrpcServer, serveClient } from "../../src/api/mod.ts";
import { type MessageName, messages, type MessageTypes } from "../../src/pb/mod.ts";
import type { Hono } from "hono";
import type tls from "node:tls";

export interface Fixture {
  grpc: GrpcServer;
  listener: ClientListener;
  target: string;
  close(): Promise<void>;
}

export async function startServer(
  host: string,
  grpcServer = new GrpcServer(),
  opts: { routes?: (app: Hono) => void; tls?: tls.TlsOptions } = {},
): Promise<Fixture> {
  const app = createHttpApp({
    version: () => ({ etcdserver: "3.4.23", etcdcluster: "3.4.0" }),
    health: () => Promise.resolve({ ok: true }),
    routes: opts.routes,
  });
  const scheme = opts.tls ? "https" : "http";
  const listener = await serveClient(new URL(`${scheme}://${host}:0`), {
    grpc: grpcServer,
    http: (req) => Promise.resolve(app.fetch(req)),
    tls: opts.tls,
  });
  return {
    grpc: grpcServer,
    listener,
    target: `${host}:${listener.address.port}`,
    close: () => listener.close(),
  };
}

export function serializer<K extends MessageName>(name: K) {
  // deno-lint-ignore no-explicit-any
  return (msg: any) => Buffer.from(messages[name].encode(msg));
}

export function deserializer<K extends MessageName>(name: K) {
  return (buf: Buffer): MessageTypes[K] => messages[name].decode(buf);
}

export function unaryCall<Req extends MessageName, Res extends MessageName>(
  client: grpc.Client,
  path: string,
  reqType: Req,
  resType: Res,
  req: unknown,
  opts: { metadata?: grpc.Metadata; deadline?: number } = {},
): Promise<MessageTypes[Res]> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      serializer(reqType),
      deserializer(resType),
      req,
      opts.metadata ?? new grpc.Metadata(),
      opts.deadline ? { deadline: opts.deadline } : {},
      (err, res) => (err ? reject(err) : resolve(res!)),
    );
  });
}

export interface RawResponse {
  headers: http2.IncomingHttpHeaders;
  endStreamOnHeaders: boolean;
  data: Uint8Array;
  trailers?: http2.IncomingHttpHeaders;
}

/** One request over a fresh HTTP/2 connection, with its frames as they arrived. */
export function rawRequest(
  target: string,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${target}`);
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ...headers });
    const chunks: Uint8Array[] = [];
    let res: RawResponse;
    req.on("response", (h, flags) => {
      res = { headers: h, endStreamOnHeaders: (flags & 1) === 1, data: new Uint8Array(0) };
    });
    req.on("trailers", (t) => (res.trailers = t));
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      res.data = new Uint8Array(Buffer.concat(chunks));
      session.close();
      resolve(res);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A gRPC length-prefixed frame. */
export function frame(payload: Uint8Array, flag = 0): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flag;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

export const grpcHeaders = (path: string, extra: http2.OutgoingHttpHeaders = {}) => ({
  ":path": path,
  "content-type": "application/grpc",
  te: "trailers",
  ...extra,
});
