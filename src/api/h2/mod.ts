// A lean HTTP/2 stack: frames, HPACK, flow control and gRPC framing shared by both roles, and a
// client connection with a unary gRPC helper. Only node: modules, so it runs on Node and Deno.

export { ErrorCode, errorCodeName, H2Error, HeaderListSizeError } from "./errors.ts";
export { ByteBuffer } from "./bytes.ts";
export {
  CONNECTION_PREFACE,
  type ContinuationFrame,
  type DataFrame,
  decodeFrame,
  DEFAULT_MAX_FRAME_SIZE,
  encodeFrame,
  Flag,
  flowControlledLength,
  type Frame,
  FRAME_HEADER_LENGTH,
  FrameParser,
  FrameType,
  type GoawayFrame,
  type HeadersFrame,
  MAX_FRAME_SIZE_LIMIT,
  MAX_WINDOW_SIZE,
  type PingFrame,
  type Priority,
  type PriorityFrame,
  type PushPromiseFrame,
  type RstStreamFrame,
  type SettingPair,
  type SettingsFrame,
  type UnknownFrame,
  type WindowUpdateFrame,
  writeFrame,
} from "./frame.ts";
export {
  applySettings,
  DEFAULT_SETTINGS,
  SettingId,
  type Settings,
  settingsPairs,
} from "./settings.ts";
export { huffmanDecode, huffmanEncode, huffmanEncodedLength } from "./huffman.ts";
export {
  DynamicTable,
  encodeInteger,
  entrySize,
  type Header,
  type HeaderList,
  HpackDecoder,
  type HpackDecoderOptions,
  HpackEncoder,
  type HpackEncoderOptions,
  SENSITIVE_HEADERS,
  STATIC_TABLE,
} from "./hpack.ts";
export { ReceiveWindow, SendWindow } from "./flow.ts";
export { FrameWriter } from "./writer.ts";
export {
  decodeGrpcMessageText,
  decodeGrpcTimeout,
  encodeGrpcMessage,
  encodeGrpcMessageText,
  encodeGrpcTimeout,
  GrpcError,
  GrpcMessageReader,
  GrpcStatus,
  grpcStatusFromHttp,
  grpcStatusFromReset,
  readGrpcStatus,
  statusName,
} from "./grpc.ts";
export {
  ClientConnection,
  type ClientOptions,
  ClientStream,
  connect,
  type StreamHandler,
} from "./client.ts";
export { grpcRequestHeaders, unaryCall, type UnaryOptions } from "./grpc_client.ts";
export {
  type IncomingHeaders,
  type OutgoingHeaders,
  type ServerStream,
  type StreamEvents,
} from "./server_stream.ts";
export { ServerConnection, type ServerConnectionOptions } from "./server.ts";
