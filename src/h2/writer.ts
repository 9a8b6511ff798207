// Outgoing frames, batched: frames written during one turn of the event loop go to the socket as
// one write, which is most of what makes many small requests cheap. Role-independent.

import { setImmediate } from "node:timers";
import { ByteBuffer } from "./bytes.ts";
import { Flag, type Frame, FRAME_HEADER_LENGTH, FrameType } from "./frame.ts";
import { writeFrame } from "./frame_encode.ts";

/** Bytes buffered before a write happens without waiting for the end of the turn. */
const FLUSH_AT = 64 * 1024;

export class FrameWriter {
  private readonly out = new ByteBuffer(16 * 1024);
  private scheduled = false;

  constructor(private readonly sink: (chunk: Uint8Array) => void) {}

  get buffered(): number {
    return this.out.length;
  }

  raw(bytes: Uint8Array): void {
    this.out.bytes(bytes);
    this.schedule();
  }

  frame(f: Frame): void {
    writeFrame(this.out, f);
    this.schedule();
  }

  /** HEADERS, followed by CONTINUATION frames when the block exceeds `maxFrameSize`. */
  headers(streamId: number, block: Uint8Array, endStream: boolean, maxFrameSize: number): void {
    let n = Math.min(block.length, maxFrameSize);
    let flags = (endStream ? Flag.END_STREAM : 0) | (n === block.length ? Flag.END_HEADERS : 0);
    this.header(n, FrameType.HEADERS, flags, streamId);
    this.out.bytes(n === block.length ? block : block.subarray(0, n));
    for (let i = n; i < block.length; i += n) {
      n = Math.min(block.length - i, maxFrameSize);
      flags = i + n === block.length ? Flag.END_HEADERS : 0;
      this.header(n, FrameType.CONTINUATION, flags, streamId);
      this.out.bytes(block.subarray(i, i + n));
    }
    this.schedule();
  }

  /** One DATA frame; the caller has checked the flow-control windows and the frame size. */
  data(streamId: number, data: Uint8Array, endStream: boolean): void {
    this.header(data.length, FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId);
    this.out.bytes(data);
    this.schedule();
  }

  windowUpdate(streamId: number, increment: number): void {
    this.header(4, FrameType.WINDOW_UPDATE, 0, streamId);
    this.out.u32(increment);
    this.schedule();
  }

  rstStream(streamId: number, errorCode: number): void {
    this.header(4, FrameType.RST_STREAM, 0, streamId);
    this.out.u32(errorCode);
    this.schedule();
  }

  flush(): void {
    if (this.out.length > 0) this.sink(this.out.take());
  }

  private header(length: number, type: number, flags: number, streamId: number) {
    const o = this.out;
    o.ensure(FRAME_HEADER_LENGTH);
    o.u24(length);
    o.u8(type);
    o.u8(flags);
    o.u32(streamId);
  }

  private schedule() {
    if (this.out.length >= FLUSH_AT) {
      this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }
}
