// HTTP/2 frames (RFC 9113 §4, §6): typed frame objects, their encoding, and a decoder that
// checks every length, flag and stream-id rule so that malformed input ends as an H2Error.
// Role-independent: client and server connections share it.

import { ByteBuffer, readU32 } from "./bytes.ts";
import { ErrorCode, H2Error } from "./errors.ts";

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

function writeHeader(out: ByteBuffer, length: number, type: number, flags: number, id: number) {
  out.u24(length);
  out.u8(type);
  out.u8(flags);
  out.u32(id & 0x7fffffff);
}

function writePriority(out: ByteBuffer, p: Priority) {
  out.u32(((p.exclusive ? 0x80000000 : 0) | (p.dependency & 0x7fffffff)) >>> 0);
  out.u8(p.weight - 1);
}

/** Appends one frame to `out`. The caller keeps payloads within the peer's max frame size. */
export function writeFrame(out: ByteBuffer, f: Frame): void {
  switch (f.type) {
    case FrameType.DATA:
    case FrameType.HEADERS: {
      const block = f.type === FrameType.DATA ? f.data : f.headerBlock;
      const padded = f.padLength !== undefined;
      const prio = f.type === FrameType.HEADERS && f.priority !== undefined;
      const pad = padded ? f.padLength! + 1 : 0;
      let flags = (f.endStream ? Flag.END_STREAM : 0) | (padded ? Flag.PADDED : 0);
      if (f.type === FrameType.HEADERS) {
        flags |= (f.endHeaders ? Flag.END_HEADERS : 0) | (prio ? Flag.PRIORITY : 0);
      }
      writeHeader(out, block.length + pad + (prio ? 5 : 0), f.type, flags, f.streamId);
      if (padded) out.u8(f.padLength!);
      if (prio) writePriority(out, (f as HeadersFrame).priority!);
      out.bytes(block);
      if (padded) out.zeros(f.padLength!);
      return;
    }
    case FrameType.PRIORITY:
      writeHeader(out, 5, f.type, 0, f.streamId);
      writePriority(out, f.priority);
      return;
    case FrameType.RST_STREAM:
      writeHeader(out, 4, f.type, 0, f.streamId);
      out.u32(f.errorCode);
      return;
    case FrameType.SETTINGS:
      writeHeader(out, f.settings.length * 6, f.type, f.ack ? Flag.ACK : 0, 0);
      for (const [id, value] of f.settings) {
        out.u16(id);
        out.u32(value);
      }
      return;
    case FrameType.PUSH_PROMISE: {
      const padded = f.padLength !== undefined;
      const pad = padded ? f.padLength! + 1 : 0;
      const flags = (f.endHeaders ? Flag.END_HEADERS : 0) | (padded ? Flag.PADDED : 0);
      writeHeader(out, 4 + f.headerBlock.length + pad, f.type, flags, f.streamId);
      if (padded) out.u8(f.padLength!);
      out.u32(f.promisedStreamId & 0x7fffffff);
      out.bytes(f.headerBlock);
      if (padded) out.zeros(f.padLength!);
      return;
    }
    case FrameType.PING:
      writeHeader(out, 8, f.type, f.ack ? Flag.ACK : 0, 0);
      out.bytes(f.opaqueData);
      return;
    case FrameType.GOAWAY:
      writeHeader(out, 8 + f.debugData.length, f.type, 0, 0);
      out.u32(f.lastStreamId & 0x7fffffff);
      out.u32(f.errorCode);
      out.bytes(f.debugData);
      return;
    case FrameType.WINDOW_UPDATE:
      writeHeader(out, 4, f.type, 0, f.streamId);
      out.u32(f.increment & 0x7fffffff);
      return;
    case FrameType.CONTINUATION:
      writeHeader(
        out,
        f.headerBlock.length,
        f.type,
        f.endHeaders ? Flag.END_HEADERS : 0,
        f.streamId,
      );
      out.bytes(f.headerBlock);
      return;
    case FrameType.UNKNOWN:
      writeHeader(out, f.payload.length, f.frameType, f.flags, f.streamId);
      out.bytes(f.payload);
      return;
  }
}

/** One frame as a fresh byte array. */
export function encodeFrame(f: Frame): Uint8Array {
  const out = new ByteBuffer(64);
  writeFrame(out, f);
  return out.take();
}

const protocolError = (msg: string, streamId = 0) =>
  new H2Error(ErrorCode.PROTOCOL_ERROR, msg, streamId);
const frameSizeError = (msg: string, streamId = 0) =>
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
    case FrameType.DATA: {
      needStream("DATA", streamId);
      const [padLength, s, e] = unpad("DATA", flags, p);
      const f: DataFrame = {
        type,
        streamId,
        endStream: (flags & Flag.END_STREAM) !== 0,
        data: p.subarray(s, e),
      };
      if (padLength !== undefined) f.padLength = padLength;
      return f;
    }
    case FrameType.HEADERS: {
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
        type,
        streamId,
        endStream: (flags & Flag.END_STREAM) !== 0,
        endHeaders: (flags & Flag.END_HEADERS) !== 0,
        headerBlock: p.subarray(s, e),
      };
      if (priority) f.priority = priority;
      if (padLength !== undefined) f.padLength = padLength;
      return f;
    }
    case FrameType.PRIORITY: {
      needStream("PRIORITY", streamId);
      if (p.length !== 5) throw frameSizeError("PRIORITY frame length is not 5", streamId);
      const priority = readPriority(p, 0);
      if (priority.dependency === streamId) {
        throw protocolError(`stream ${streamId} depends on itself`, streamId);
      }
      return { type, streamId, priority };
    }
    case FrameType.RST_STREAM:
      needStream("RST_STREAM", streamId);
      if (p.length !== 4) throw frameSizeError("RST_STREAM frame length is not 4");
      return { type, streamId, errorCode: readU32(p, 0) };
    case FrameType.SETTINGS: {
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
      return { type, ack, settings };
    }
    case FrameType.PUSH_PROMISE: {
      needStream("PUSH_PROMISE", streamId);
      const [padLength, s, e] = unpad("PUSH_PROMISE", flags, p);
      if (e - s < 4) throw frameSizeError("PUSH_PROMISE frame too short");
      const f: PushPromiseFrame = {
        type,
        streamId,
        endHeaders: (flags & Flag.END_HEADERS) !== 0,
        promisedStreamId: readU32(p, s) & 0x7fffffff,
        headerBlock: p.subarray(s + 4, e),
      };
      if (padLength !== undefined) f.padLength = padLength;
      return f;
    }
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
    case FrameType.WINDOW_UPDATE: {
      if (p.length !== 4) throw frameSizeError("WINDOW_UPDATE frame length is not 4");
      const increment = readU32(p, 0) & 0x7fffffff;
      if (increment === 0) throw protocolError("WINDOW_UPDATE with an increment of 0", streamId);
      return { type, streamId, increment };
    }
    case FrameType.CONTINUATION:
      needStream("CONTINUATION", streamId);
      return {
        type,
        streamId,
        endHeaders: (flags & Flag.END_HEADERS) !== 0,
        headerBlock: p,
      };
    default:
      return { type: FrameType.UNKNOWN, frameType: type, flags, streamId, payload: p };
  }
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

/**
 * Splits a byte stream into frames. Feed it socket chunks; it calls `onFrame` for each complete
 * frame. A server parser first checks the client preface.
 */
export class FrameParser {
  /** The largest payload accepted: our advertised SETTINGS_MAX_FRAME_SIZE. */
  maxFrameSize: number;
  private pending: Uint8Array | undefined;
  private prefaceLeft: number;

  constructor(opts: { maxFrameSize?: number; expectPreface?: boolean } = {}) {
    this.maxFrameSize = opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.prefaceLeft = opts.expectPreface ? CONNECTION_PREFACE.length : 0;
  }

  /**
   * Decodes the frames completed by `chunk`. An H2Error for one stream, thrown by the decoder or
   * by `onFrame`, goes to `onStreamError` and parsing continues; anything else propagates (the
   * connection is then unusable).
   */
  push(
    chunk: Uint8Array,
    onFrame: (f: Frame) => void,
    onStreamError: (e: H2Error) => void,
  ): void {
    let buf = chunk;
    if (this.pending) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
      this.pending = undefined;
    }
    let i = 0;
    if (this.prefaceLeft > 0) i = this.checkPreface(buf);
    while (buf.length - i >= FRAME_HEADER_LENGTH) {
      const length = (buf[i] << 16) | (buf[i + 1] << 8) | buf[i + 2];
      if (length > this.maxFrameSize) {
        this.pending = undefined;
        throw frameSizeError(`frame of ${length} bytes exceeds the maximum ${this.maxFrameSize}`);
      }
      const end = i + FRAME_HEADER_LENGTH + length;
      if (end > buf.length) break;
      const type = buf[i + 3];
      const flags = buf[i + 4];
      const streamId = readU32(buf, i + 5) & 0x7fffffff;
      i = end;
      try {
        onFrame(decodeFrame(type, flags, streamId, buf.subarray(end - length, end)));
      } catch (e) {
        if (!(e instanceof H2Error) || e.isConnectionError) throw e;
        onStreamError(e);
      }
    }
    if (i < buf.length) this.pending = buf.slice(i);
  }

  private checkPreface(buf: Uint8Array): number {
    const start = CONNECTION_PREFACE.length - this.prefaceLeft;
    const n = Math.min(this.prefaceLeft, buf.length);
    for (let k = 0; k < n; k++) {
      if (buf[k] !== CONNECTION_PREFACE[start + k]) {
        this.prefaceLeft = 0;
        throw protocolError("invalid connection preface");
      }
    }
    this.prefaceLeft -= n;
    return n;
  }
}
