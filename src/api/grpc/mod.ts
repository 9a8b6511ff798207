// gRPC on node:http2 streams: service registry, framing, status trailers, deadlines.

export {
  type BidiStreamHandler,
  type CallContext,
  GrpcServer,
  type GrpcServerOptions,
  type Send,
  type ServerStreamHandler,
  type ServiceHandlers,
  type ServiceName,
  type UnaryHandler,
} from "./server.ts";
export { encodeGrpcMessage, parseGrpcTimeout } from "./wire.ts";
