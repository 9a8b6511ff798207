// The client API: wire codecs, the gRPC server, the HTTP app, and the one-port listener.
export * from "./grpc/mod.ts";
export * from "./http/mod.ts";
export {
  type ClientListener,
  listenHost,
  serveClient,
  type ServeClientOptions,
} from "./listener.ts";
export type { FetchHandler } from "./fetch_stream.ts";
