// Decoding one HTTP/2 frame's payload (RFC 9113 §6) into its typed object. Every length,
// flag, padding and stream-id rule is checked here, so that malformed input ends as an
// H2Error carrying the code the RFC assigns (a stream error carries its stream id) and nothing
// past the decoder has to distrust a frame's shape.

import { readU32 } from "./bytes.ts";
import { ErrorCode, H2Error } from "./errors.ts";
import {
  type DataFrame,
  DEFAULT_MAX_FRAME_SIZE,
  Flag,
  type Frame,
  FrameType,
  type HeadersFrame,
  MAX_FRAME_SIZE_LIMIT,
  MAX_WINDOW_SIZE,
  type Priority,
  type PriorityFrame,
  type PushPromiseFrame,
  type SettingPair,
  type SettingsFrame,
  type WindowUpdateFrame,
} from "./frame.ts";

export const protocolError = (msg: string, streamId = 0) =>
  new H2Error(ErrorCode.PROTOCOL_ERROR, msg, streamId);
export const frameSizeError = (msg: string, streamId = 0) =>
  new H2Error(ErrorCode.FRAME_SIZE_ERROR, msg, streamId);

function needStream(name: string, id: number) {
  if (id === 0) throw protocolError(`${name} frame on stream 0`);
}

function needConnection(name: string, id: number) {
  if (id !== 0) throw protocolError(`${name} frame on stream ${id}`);
}

/** Strips padding (§6.1): returns [padLength, start, end] of the unpadded content. */
function unpad(name: string, flags: number, p: Uint8Array): [number | undefined, number, number] {
  if ((flags & Flag.PADDED) === 0) return [undefined, 0, p.length];
  if (p.length < 1) throw frameSizeError(`${name} frame too short for its pad length`);
  const padLength = p[0];
  if (padLength >= p.length) throw protocolError(`${name} padding exceeds the frame payload`);
  return [padLength, 1, p.length - padLength];
}

function readPriority(p: Uint8Array, i: number): Priority {
  const word = readU32(p, i);
  return { exclusive: word >= 0x80000000, dependency: word & 0x7fffffff, weight: p[i + 4] + 1 };
}

/**
 * Decodes one frame's payload. Throws H2Error with the code RFC 9113 assigns to each violation
 * (stream errors carry the stream id). Payload views share memory with `payload`.
 */
export function decodeFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array,
): Frame {
  const p = payload;
  switch (type) {
    case FrameType.DATA:
      return decodeData(flags, streamId, p);
    case FrameType.HEADERS:
      return decodeHeaders(flags, streamId, p);
    case FrameType.PRIORITY:
      return decodePriority(streamId, p);
    case FrameType.RST_STREAM:
      needStream("RST_STREAM", streamId);
      if (p.length !== 4) throw frameSizeError("RST_STREAM frame length is not 4");
      return { type, streamId, errorCode: readU32(p, 0) };
    case FrameType.SETTINGS:
      return decodeSettings(flags, streamId, p);
    case FrameType.PUSH_PROMISE:
      return decodePushPromise(flags, streamId, p);
    case FrameType.PING:
      needConnection("PING", streamId);
      if (p.length !== 8) throw frameSizeError("PING frame length is not 8");
      return { type, ack: (flags & Flag.ACK) !== 0, opaqueData: p.subarray(0, 8) };
    case FrameType.GOAWAY:
      needConnection("GOAWAY", streamId);
      if (p.length < 8) throw frameSizeError("GOAWAY frame too short");
      return {
        type,
        lastStreamId: readU32(p, 0) & 0x7fffffff,
        errorCode: readU32(p, 4),
        debugData: p.subarray(8),
      };
    case FrameType.WINDOW_UPDATE:
      return decodeWindowUpdate(streamId, p);
    case FrameType.CONTINUATION:
      needStream("CONTINUATION", streamId);
      return { type, streamId, endHeaders: (flags & Flag.END_HEADERS) !== 0, headerBlock: p };
    default:
      return { type: FrameType.UNKNOWN, frameType: type, flags, streamId, payload: p };
  }
}

/** DATA (§6.1): the data is what remains without the padding. */
function decodeData(flags: number, streamId: number, p: Uint8Array): DataFrame {
  needStream("DATA", streamId);
  const [padLength, s, e] = unpad("DATA", flags, p);
  const f: DataFrame = {
    type: FrameType.DATA,
    streamId,
    endStream: (flags & Flag.END_STREAM) !== 0,
    data: p.subarray(s, e),
  };
  if (padLength !== undefined) f.padLength = padLength;
  return f;
}

/** HEADERS (§6.2): padding, then the optional priority fields, then the header block. */
function decodeHeaders(flags: number, streamId: number, p: Uint8Array): HeadersFrame {
  needStream("HEADERS", streamId);
  const [padLength, start, e] = unpad("HEADERS", flags, p);
  let s = start;
  let priority: Priority | undefined;
  if (flags & Flag.PRIORITY) {
    if (e - s < 5) throw frameSizeError("HEADERS frame too short for its priority fields");
    priority = readPriority(p, s);
    s += 5; // a self-dependency is the connection's to judge: the block must be decoded
  }
  const f: HeadersFrame = {
    type: FrameType.HEADERS,
    streamId,
    endStream: (flags & Flag.END_STREAM) !== 0,
    endHeaders: (flags & Flag.END_HEADERS) !== 0,
    headerBlock: p.subarray(s, e),
  };
  if (priority) f.priority = priority;
  if (padLength !== undefined) f.padLength = padLength;
  return f;
}

/** PRIORITY (§6.3): exactly five bytes; a stream may not depend on itself. */
function decodePriority(streamId: number, p: Uint8Array): PriorityFrame {
  needStream("PRIORITY", streamId);
  if (p.length !== 5) throw frameSizeError("PRIORITY frame length is not 5", streamId);
  const priority = readPriority(p, 0);
  if (priority.dependency === streamId) {
    throw protocolError(`stream ${streamId} depends on itself`, streamId);
  }
  return { type: FrameType.PRIORITY, streamId, priority };
}

/** SETTINGS (§6.5): six bytes per setting, none in an ack, each value within its range. */
function decodeSettings(flags: number, streamId: number, p: Uint8Array): SettingsFrame {
  needConnection("SETTINGS", streamId);
  const ack = (flags & Flag.ACK) !== 0;
  if (ack && p.length !== 0) throw frameSizeError("SETTINGS ack with a payload");
  if (p.length % 6 !== 0) throw frameSizeError("SETTINGS length is not a multiple of 6");
  const settings: SettingPair[] = [];
  for (let i = 0; i < p.length; i += 6) {
    const id = (p[i] << 8) | p[i + 1];
    const value = readU32(p, i + 2);
    checkSetting(id, value);
    settings.push([id, value]);
  }
  return { type: FrameType.SETTINGS, ack, settings };
}

/** Value checks RFC 9113 §6.5.2 makes on known settings. */
function checkSetting(id: number, value: number) {
  if (id === 0x2 && value > 1) throw protocolError("SETTINGS_ENABLE_PUSH is not 0 or 1");
  if (id === 0x4 && value > MAX_WINDOW_SIZE) {
    throw new H2Error(ErrorCode.FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
  }
  if (id === 0x5 && (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_FRAME_SIZE_LIMIT)) {
    throw protocolError(`SETTINGS_MAX_FRAME_SIZE ${value} out of range`);
  }
}

/** PUSH_PROMISE (§6.6): padding around the promised stream id and the header block. */
function decodePushPromise(flags: number, streamId: number, p: Uint8Array): PushPromiseFrame {
  needStream("PUSH_PROMISE", streamId);
  const [padLength, s, e] = unpad("PUSH_PROMISE", flags, p);
  if (e - s < 4) throw frameSizeError("PUSH_PROMISE frame too short");
  const f: PushPromiseFrame = {
    type: FrameType.PUSH_PROMISE,
    streamId,
    endHeaders: (flags & Flag.END_HEADERS) !== 0,
    promisedStreamId: readU32(p, s) & 0x7fffffff,
    headerBlock: p.subarray(s + 4, e),
  };
  if (padLength !== undefined) f.padLength = padLength;
  return f;
}

/** WINDOW_UPDATE (§6.9): four bytes; an increment of 0 is an error of the window's scope. */
function decodeWindowUpdate(streamId: number, p: Uint8Array): WindowUpdateFrame {
  if (p.length !== 4) throw frameSizeError("WINDOW_UPDATE frame length is not 4");
  const increment = readU32(p, 0) & 0x7fffffff;
  if (increment === 0) throw protocolError("WINDOW_UPDATE with an increment of 0", streamId);
  return { type: FrameType.WINDOW_UPDATE, streamId, increment };
}
