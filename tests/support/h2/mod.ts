// The HTTP/2 client the tests and the bench drive members with: the lean connection of src/h2 and
// unary gRPC calls over it. The files themselves, not src/api/mod.ts: the bench runs this client
// under Node, and the API's whole graph (the member behind it, node:sqlite) must stay out of it.
export { ClientConnection, type ClientOptions } from "../../../src/h2/client.ts";
export { ClientStream, type StreamHandler } from "../../../src/h2/client_stream.ts";
export { connect } from "../../../src/h2/client_connect.ts";
export {
  type CallHandler,
  type ClientCall,
  grpcRequestHeaders,
  streamCall,
  unaryCall,
  type UnaryOptions,
} from "../../../src/api/grpc/client_call.ts";
export {
  decodeGrpcMessageText,
  encodeGrpcTimeout,
  GrpcError,
  grpcStatusFromHttp,
  grpcStatusFromReset,
  readGrpcStatus,
} from "../../../src/api/grpc/client_status.ts";
