// Splitting a connection's byte stream into frames (RFC 9113 §4.1): it checks the client
// preface on a server connection, enforces our SETTINGS_MAX_FRAME_SIZE before buffering a
// frame, keeps a partial frame until the rest arrives, and separates stream errors (the
// connection goes on) from connection errors (it cannot).

import { readU32 } from "./bytes.ts";
import { H2Error } from "./errors.ts";
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  type Frame,
  FRAME_HEADER_LENGTH,
} from "./frame.ts";
import { decodeFrame, frameSizeError, protocolError } from "./frame_decode.ts";

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
