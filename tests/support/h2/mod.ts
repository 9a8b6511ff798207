// The HTTP/2 client the tests and the bench drive members with: a lean connection on the same
// frames, HPACK and flow control as the server, and unary gRPC calls over it.
export {
  ClientConnection,
  type ClientOptions,
  ClientStream,
  connect,
  type StreamHandler,
} from "./client.ts";
export { grpcRequestHeaders, unaryCall, type UnaryOptions } from "./grpc_client.ts";
export {
  decodeGrpcMessageText,
  encodeGrpcTimeout,
  GrpcError,
  grpcStatusFromHttp,
  grpcStatusFromReset,
  readGrpcStatus,
} from "./grpc.ts";
