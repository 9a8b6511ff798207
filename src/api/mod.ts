// The client API: wire codecs, the gRPC server, the HTTP app, and the one-port listener.
export * from "./grpc/mod.ts";
export * from "./http/mod.ts";
export {
  type ClientListener,
  type Http2Implementation,
  http2Implementation,
  serveClient,
  type ServeClientOptions,
} from "./listener.ts";
export type { FetchHandler } from "./fetch_stream.ts";
export type { KeepaliveParams } from "../h2/mod.ts";
export { addV2Routes, localV2, MemberChangeError, type V2Deps, type V2Member } from "./v2/mod.ts";
export { createClientHttp, createMetricsHttp, registerServices } from "./services/mod.ts";
