// Encoding HTTP/2 frames (RFC 9113 §4.1, §6): the nine-byte frame header, then each frame
// type's payload. Frames are appended to a ByteBuffer so that a connection can batch many of
// them into one socket write; the caller keeps payloads within the peer's max frame size.

import { ByteBuffer } from "./bytes.ts";
import {
  type DataFrame,
  Flag,
  type Frame,
  FrameType,
  type HeadersFrame,
  type Priority,
  type PushPromiseFrame,
} from "./frame.ts";

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
    case FrameType.HEADERS:
      return writeDataOrHeaders(out, f);
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
    case FrameType.PUSH_PROMISE:
      return writePushPromise(out, f);
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
    case FrameType.CONTINUATION: {
      const flags = f.endHeaders ? Flag.END_HEADERS : 0;
      writeHeader(out, f.headerBlock.length, f.type, flags, f.streamId);
      out.bytes(f.headerBlock);
      return;
    }
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

/**
 * DATA (§6.1) and HEADERS (§6.2) share their layout: an optional pad length, for HEADERS an
 * optional priority, the data or header block, then the padding.
 */
function writeDataOrHeaders(out: ByteBuffer, f: DataFrame | HeadersFrame): void {
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
}

/** PUSH_PROMISE (§6.6): the promised stream id before the header block, padding around both. */
function writePushPromise(out: ByteBuffer, f: PushPromiseFrame): void {
  const padded = f.padLength !== undefined;
  const pad = padded ? f.padLength! + 1 : 0;
  const flags = (f.endHeaders ? Flag.END_HEADERS : 0) | (padded ? Flag.PADDED : 0);
  writeHeader(out, 4 + f.headerBlock.length + pad, f.type, flags, f.streamId);
  if (padded) out.u8(f.padLength!);
  out.u32(f.promisedStreamId & 0x7fffffff);
  out.bytes(f.headerBlock);
  if (padded) out.zeros(f.padLength!);
}
