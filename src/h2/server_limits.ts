// The lean server's defences, kept apart from the protocol logic (the cap on header blocks,
// against CONTINUATION floods, is HeaderBlock's limit): the streams we recently reset
// (whose late frames are ignored, §5.1 "closed"), and a cap on client resets per second
// (rapid reset: opening and cancelling streams in a loop makes the server start work nobody
// waits for).

import { ErrorCode, H2Error } from "./errors.ts";

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
