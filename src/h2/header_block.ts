// A header block being received: a HEADERS frame without END_HEADERS and its CONTINUATIONs,
// joined once END_HEADERS arrives. Both ends of a connection assemble blocks this way.

import { ErrorCode, H2Error } from "./errors.ts";
import type { HeadersFrame } from "./frame.ts";

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
