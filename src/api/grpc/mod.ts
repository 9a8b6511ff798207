// gRPC on HTTP/2 streams (lean or node:http2): registry, framing, status trailers, deadlines.

export {
  type BidiStreamHandler,
  type CallContext,
  type CallTracker,
  type GrpcObserver,
  GrpcServer,
  type GrpcServerOptions,
  type GrpcType,
  type InvokeContext,
  type MethodInfo,
  type Send,
  type ServerStreamHandler,
  type ServiceHandlers,
  type ServiceName,
  type UnaryHandler,
} from "./server.ts";
export { Deframer, encodeGrpcMessage, frameMessage, parseGrpcTimeout } from "./wire.ts";
export { enableHandlingTimeHistogram, instrumentGrpcServer } from "./metrics.ts";
export {
  type CallHandler,
  type ClientCall,
  grpcRequestHeaders,
  streamCall,
  unaryCall,
  type UnaryOptions,
} from "./client_call.ts";
export {
  decodeGrpcMessageText,
  encodeGrpcTimeout,
  GrpcError,
  grpcStatusFromHttp,
  grpcStatusFromReset,
  readGrpcStatus,
} from "./client_status.ts";
