// Flow-control windows (RFC 9113 §5.2, §6.9). Role-independent: every connection keeps one send
// and one receive window for itself and per stream.

import { ErrorCode, H2Error } from "./errors.ts";
import { MAX_WINDOW_SIZE } from "./frame.ts";

/** How much we may still send; WINDOW_UPDATE and SETTINGS_INITIAL_WINDOW_SIZE move it. */
export class SendWindow {
  constructor(public size: number, private readonly streamId = 0) {}

  consume(n: number): void {
    this.size -= n;
  }

  /** A WINDOW_UPDATE arrived; a window above 2^31-1 is a FLOW_CONTROL_ERROR (§6.9.1). */
  increase(n: number): void {
    if (this.size + n > MAX_WINDOW_SIZE) {
      throw new H2Error(ErrorCode.FLOW_CONTROL_ERROR, "window above 2^31-1", this.streamId);
    }
    this.size += n;
  }

  /** The peer changed SETTINGS_INITIAL_WINDOW_SIZE: shift by the difference, maybe below 0. */
  adjust(delta: number): void {
    if (this.size + delta > MAX_WINDOW_SIZE) {
      throw new H2Error(ErrorCode.FLOW_CONTROL_ERROR, "window above 2^31-1 after SETTINGS");
    }
    this.size += delta;
  }
}

/**
 * How much the peer may still send us. Bytes are consumed when they arrive and released when
 * the application has taken them; released bytes are returned to the peer in one WINDOW_UPDATE
 * once they reach half the target window, so small messages cost no extra frames.
 */
export class ReceiveWindow {
  private unacked = 0;

  constructor(
    public available: number,
    public target: number = available,
    private readonly streamId = 0,
  ) {}

  consume(n: number): void {
    if (n > this.available) {
      throw new H2Error(
        ErrorCode.FLOW_CONTROL_ERROR,
        `peer sent ${n} bytes with ${this.available} left in the window`,
        this.streamId,
      );
    }
    this.available -= n;
  }

  /** Returns the WINDOW_UPDATE increment to send now, or 0. */
  release(n: number): number {
    this.unacked += n;
    if (this.available + this.unacked > this.target) {
      // the target was lowered: hold back the surplus
      this.unacked = Math.max(0, this.target - this.available);
    }
    if (this.unacked === 0 || this.unacked < this.target / 2) return 0;
    const inc = this.unacked;
    this.unacked = 0;
    this.available += inc;
    return inc;
  }

  /** Raises the window to `target` at once (a connection's first WINDOW_UPDATE). */
  grow(): number {
    const inc = this.target - this.available - this.unacked;
    if (inc <= 0) return 0;
    this.available += inc;
    return inc;
  }
}
