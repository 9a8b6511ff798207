// A lean HTTP/2 stack: frames, HPACK, flow control and settings shared by both roles, the server
// connection and the client connection. Only node: modules, so it runs on Node and Deno.

export { ErrorCode, errorCodeName, H2Error, HeaderListSizeError } from "./errors.ts";
export { ByteBuffer } from "./bytes.ts";
export { HeaderBlock } from "./header_block.ts";
export {
  CONNECTION_PREFACE,
  type ContinuationFrame,
  type DataFrame,
  DEFAULT_MAX_FRAME_SIZE,
  Flag,
  flowControlledLength,
  type Frame,
  FRAME_HEADER_LENGTH,
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
} from "./frame.ts";
export { encodeFrame, writeFrame } from "./frame_encode.ts";
export { decodeFrame } from "./frame_decode.ts";
export { FrameParser } from "./frame_parser.ts";
export {
  applySettings,
  DEFAULT_SETTINGS,
  SettingId,
  type Settings,
  settingsPairs,
} from "./settings.ts";
export { huffmanDecode, huffmanEncode, huffmanEncodedLength } from "./huffman.ts";
export { DynamicTable, entrySize, type Header, type HeaderList, STATIC_TABLE } from "./hpack.ts";
export {
  encodeInteger,
  HpackEncoder,
  type HpackEncoderOptions,
  SENSITIVE_HEADERS,
} from "./hpack_encoder.ts";
export { HpackDecoder, type HpackDecoderOptions } from "./hpack_decoder.ts";
export { ReceiveWindow, SendWindow } from "./flow.ts";
export { FrameWriter } from "./writer.ts";
export {
  type IncomingHeaders,
  type OutgoingHeaders,
  type ServerStream,
  type StreamEvents,
} from "./server_stream.ts";
export { ServerConnection } from "./server.ts";
export type { ServerConnectionOptions } from "./server_options.ts";
export { ClientConnection, type ClientOptions } from "./client.ts";
export { ClientStream, type StreamHandler } from "./client_stream.ts";
export { connect } from "./client_connect.ts";
export {
  type Clock,
  ConnectionKeepalive,
  type KeepaliveParams,
  KeepalivePinger,
  PingStrikes,
  TOO_MANY_PINGS,
} from "./server_keepalive.ts";
