// HTTP/2 frames (RFC 9113 §4, §6) as typed objects: the frame types, flags and size limits,
// and one interface per frame type. Encoding is in frame_encode.ts, decoding (with every
// length, flag and stream-id check) in frame_decode.ts, and splitting a byte stream into
// frames in frame_parser.ts. Role-independent: client and server connections share them.

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
  /** Not on the wire: marks a frame of an extension type, which receivers ignore (§5.5). */
  UNKNOWN: -1,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const FRAME_HEADER_LENGTH = 9;
export const DEFAULT_MAX_FRAME_SIZE = 16384;
export const MAX_FRAME_SIZE_LIMIT = 0xffffff;
export const MAX_WINDOW_SIZE = 0x7fffffff;

/** The client connection preface (§3.4), sent before the client's SETTINGS. */
export const CONNECTION_PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface Priority {
  exclusive: boolean;
  dependency: number;
  /** 1..256 (the wire carries weight - 1). */
  weight: number;
}

export interface DataFrame {
  type: typeof FrameType.DATA;
  streamId: number;
  endStream: boolean;
  data: Uint8Array;
  /** Present when the frame is (to be) padded; padding counts against flow control. */
  padLength?: number;
}

export interface HeadersFrame {
  type: typeof FrameType.HEADERS;
  streamId: number;
  endStream: boolean;
  endHeaders: boolean;
  headerBlock: Uint8Array;
  priority?: Priority;
  padLength?: number;
}

export interface PriorityFrame {
  type: typeof FrameType.PRIORITY;
  streamId: number;
  priority: Priority;
}

export interface RstStreamFrame {
  type: typeof FrameType.RST_STREAM;
  streamId: number;
  errorCode: number;
}

/** [identifier, value] in wire order; unknown identifiers are kept (receivers ignore them). */
export type SettingPair = [id: number, value: number];

export interface SettingsFrame {
  type: typeof FrameType.SETTINGS;
  ack: boolean;
  settings: SettingPair[];
}

export interface PushPromiseFrame {
  type: typeof FrameType.PUSH_PROMISE;
  streamId: number;
  endHeaders: boolean;
  promisedStreamId: number;
  headerBlock: Uint8Array;
  padLength?: number;
}

export interface PingFrame {
  type: typeof FrameType.PING;
  ack: boolean;
  /** Exactly 8 bytes. */
  opaqueData: Uint8Array;
}

export interface GoawayFrame {
  type: typeof FrameType.GOAWAY;
  lastStreamId: number;
  errorCode: number;
  debugData: Uint8Array;
}

export interface WindowUpdateFrame {
  type: typeof FrameType.WINDOW_UPDATE;
  streamId: number;
  increment: number;
}

export interface ContinuationFrame {
  type: typeof FrameType.CONTINUATION;
  streamId: number;
  endHeaders: boolean;
  headerBlock: Uint8Array;
}

export interface UnknownFrame {
  type: typeof FrameType.UNKNOWN;
  frameType: number;
  flags: number;
  streamId: number;
  payload: Uint8Array;
}

export type Frame =
  | DataFrame
  | HeadersFrame
  | PriorityFrame
  | RstStreamFrame
  | SettingsFrame
  | PushPromiseFrame
  | PingFrame
  | GoawayFrame
  | WindowUpdateFrame
  | ContinuationFrame
  | UnknownFrame;

/** Bytes a DATA frame takes from the flow-control windows: its whole payload (§6.9.1). */
export function flowControlledLength(f: DataFrame): number {
  return f.data.length + (f.padLength === undefined ? 0 : f.padLength + 1);
}
