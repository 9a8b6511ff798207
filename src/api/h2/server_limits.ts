// The lean server's defences, kept apart from the protocol logic: header blocks assembled from
// HEADERS + CONTINUATION with a size cap (CONTINUATION floods), the streams we recently reset
// (whose late frames are ignored, §5.1 "closed"), and a cap on client resets per second
// (rapid reset: opening and cancelling streams in a loop makes the server start work nobody
// waits for).

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

/** The last `capacity` stream ids we reset. */
export class RecentResets {
  private readonly ids = new Set<number>();

  constructor(private readonly capacity = 256) {}

  add(id: number): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }
}

/**
 * Client resets allowed by a token bucket: a burst of `perSecond`, refilled at `perSecond` per
 * second (a bucket, unlike counting per clock second, cannot be dodged by a burst that
 * straddles a second boundary). Beyond it: ENHANCE_YOUR_CALM.
 */
export class ResetRate {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly perSecond = 1000) {
    this.tokens = perSecond;
  }

  countOne(): void {
    const now = performance.now();
    this.tokens = Math.min(this.perSecond, this.tokens + (now - this.last) * this.perSecond / 1000);
    this.last = now;
    if (this.tokens < 1) {
      throw new H2Error(ErrorCode.ENHANCE_YOUR_CALM, "too many streams reset by the client");
    }
    this.tokens -= 1;
  }
}
