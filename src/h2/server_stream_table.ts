// The open streams of a lean server connection and the stream-id rules of RFC 9113 §5.1: which
// ids the client has opened (an id above the last one is idle; an even one is never the
// client's), which stream ids a new HEADERS may take, and which streams we reset lately,
// whose frames may still be in flight and are ignored rather than treated as errors; after our
// GOAWAY, also the streams above its last stream id (§6.8).

import { ErrorCode, H2Error } from "./errors.ts";
import { RecentResets } from "./server_limits.ts";
import type { H2ServerStream } from "./server_request.ts";

// Stream ids are 31 bits (§5.1.1): before a GOAWAY, no stream is above its last stream id.
const MAX_STREAM_ID = 0x7fffffff;

export class StreamTable {
  readonly open = new Map<number, H2ServerStream>();
  /** The highest stream id the client opened or tried to: GOAWAY's last stream id. */
  lastStreamId = 0;
  private goawayLastStreamId = MAX_STREAM_ID;
  private readonly resets = new RecentResets();

  /** The client has not opened this stream yet (§5.1 "idle"). */
  isIdle(id: number): boolean {
    return id % 2 === 0 || id > this.lastStreamId;
  }

  /** Frames naming a stream the client has not opened yet are a connection error (§5.1). */
  checkNotIdle(id: number): void {
    if (this.isIdle(id)) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, `frame on idle stream ${id}`);
    }
  }

  /** We send GOAWAY: the last stream id it names, above which streams will not be opened. */
  goaway(): number {
    this.goawayLastStreamId = this.lastStreamId;
    return this.lastStreamId;
  }

  /**
   * Above our GOAWAY's last stream id: a stream we never processed and never will, whose
   * frames are ignored rather than answered (§6.8); the client may retry it elsewhere.
   */
  beyondGoaway(id: number): boolean {
    return id > this.goawayLastStreamId;
  }

  wasReset(id: number): boolean {
    return this.resets.has(id);
  }

  markReset(id: number): void {
    this.resets.add(id);
  }

  /**
   * HEADERS for a stream that is not open: the id must be a new odd one (§5.1.1), and then
   * becomes the last stream id. False when it names a stream we reset: the frame is ignored.
   */
  claim(id: number): boolean {
    if (id % 2 === 0) {
      throw new H2Error(ErrorCode.PROTOCOL_ERROR, `client opened even stream ${id}`);
    }
    if (id <= this.lastStreamId) {
      if (this.resets.has(id)) return false;
      throw new H2Error(ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${id}`);
    }
    this.lastStreamId = id;
    return true;
  }

  /** A refused header block still used its stream id: the client's next id must be higher. */
  claimRefused(id: number): void {
    if (!this.open.has(id) && id % 2 === 1 && id > this.lastStreamId) this.lastStreamId = id;
  }

  /**
   * Removes an open stream; false if it was not open. Unless it ended cleanly on both sides,
   * its id is remembered as reset, so the client's frames still in flight are ignored.
   */
  close(s: H2ServerStream, reset: boolean): boolean {
    if (!this.open.delete(s.id)) return false;
    if (reset || !s.remoteEnded) this.resets.add(s.id);
    return true;
  }
}
