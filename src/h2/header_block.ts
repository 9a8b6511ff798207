// A header block being received: a HEADERS frame without END_HEADERS and its CONTINUATIONs,
// joined once END_HEADERS arrives. Both ends of a connection assemble blocks this way.

import { ErrorCode, H2Error } from "./errors.ts";
import { type ContinuationFrame, type Frame, FrameType, type HeadersFrame } from "./frame.ts";

/** A header block being received: a HEADERS frame without END_HEADERS and its CONTINUATIONs. */
export class HeaderBlock {
  private readonly chunks: Uint8Array[];
  private size: number;

  constructor(readonly frame: HeadersFrame, private readonly limit: number) {
    this.chunks = [frame.headerBlock];
    this.size = frame.headerBlock.length;
    this.check();
  }

  add(fragment: Uint8Array): void {
    this.chunks.push(fragment);
    this.size += fragment.length;
    this.check();
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let n = 0;
    for (const c of this.chunks) {
      out.set(c, n);
      n += c.length;
    }
    return out;
  }

  // HPACK state forbids dropping a block half-way, so an oversized one ends the connection.
  private check(): void {
    if (this.size > this.limit) {
      throw new H2Error(
        ErrorCode.ENHANCE_YOUR_CALM,
        `header block of more than ${this.limit} bytes`,
      );
    }
  }
}

/** Where a complete header block goes: its HEADERS frame and the joined block. */
export type OnHeaderBlock = (frame: HeadersFrame, block: Uint8Array) => void;

/**
 * A connection's header blocks, frame by frame: HEADERS with END_HEADERS is whole at once, one
 * without it waits for its CONTINUATIONs, and no other frame may come in between (§6.10).
 */
export class HeaderBlocks {
  private continuing: HeaderBlock | undefined;

  /** `limit` caps a block's raw bytes (HEADERS plus CONTINUATIONs). */
  constructor(private readonly limit: number, private readonly onBlock: OnHeaderBlock) {}

  /** A frame of any other type while a block waits for its CONTINUATIONs is a connection error. */
  checkInterleaved(type: Frame["type"]): void {
    if (this.continuing && type !== FrameType.CONTINUATION) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, "header block interrupted by another frame");
    }
  }

  receive(f: HeadersFrame | ContinuationFrame): void {
    if (f.type === FrameType.HEADERS) {
      if (f.endHeaders) return this.onBlock(f, f.headerBlock);
      this.continuing = new HeaderBlock(f, this.limit);
      return;
    }
    const c = this.continuing;
    if (!c || c.frame.streamId !== f.streamId) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION frame");
    }
    c.add(f.headerBlock);
    if (!f.endHeaders) return;
    this.continuing = undefined;
    this.onBlock(c.frame, c.bytes());
  }
}
