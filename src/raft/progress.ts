// Per-follower replication state on the leader (etcd's tracker.Progress): how far the
// follower's log is known to match, what to send next, and flow control.

import { ProgressStateType, type ProgressStatus } from "./types.ts";

/** Sliding window of the last indexes of in-flight MsgApp, bounded by maxInflightMsgs. */
export class Inflights {
  private buf: number[] = [];
  constructor(readonly size: number) {}

  add(inflight: number): void {
    if (this.full()) throw new Error("cannot add into a Full inflights");
    this.buf.push(inflight);
  }

  /** Frees every in-flight message whose last index is <= to. */
  freeLE(to: number): void {
    let i = 0;
    while (i < this.buf.length && this.buf[i] <= to) i++;
    if (i > 0) this.buf = this.buf.slice(i);
  }

  freeFirstOne(): void {
    if (this.buf.length > 0) this.buf = this.buf.slice(1);
  }

  full(): boolean {
    return this.buf.length >= this.size;
  }

  count(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf = [];
  }
}

export class Progress {
  state = ProgressStateType.Probe;
  /** In probe state: a MsgApp is out and unacknowledged, so wait (or a heartbeat round). */
  probeSent = false;
  /** Index of the snapshot in flight while in snapshot state. */
  pendingSnapshot = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  inflights: Inflights;

  constructor(
    public match: number,
    public next: number,
    maxInflight: number,
    public isLearner: boolean,
  ) {
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressStateType): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot the follower has at least the snapshot's index; probe from there.
    if (this.state === ProgressStateType.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressStateType.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressStateType.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressStateType.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshoti: number): void {
    this.resetState(ProgressStateType.Snapshot);
    this.pendingSnapshot = snapshoti;
  }

  /** Records an acknowledgement up to n; false if it told us nothing new. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /** In replicate state, entries up to n are assumed delivered until told otherwise. */
  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * Handles a rejection of the MsgApp whose previous index was `rejected`; the follower's last
   * index is `matchHint`. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressStateType.Replicate) {
      // Rejections of anything at or below match are stale: the follower has those entries.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Otherwise only the rejection of the latest probe counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressStateType.Probe:
        return this.probeSent;
      case ProgressStateType.Replicate:
        return this.inflights.full();
      default:
        return true;
    }
  }

  toString(): string {
    const parts = [`${ProgressStateType[this.state]} match=${this.match} next=${this.next}`];
    if (this.isLearner) parts.push("learner");
    if (this.isPaused()) parts.push("paused");
    if (this.pendingSnapshot > 0) parts.push(`pendingSnap=${this.pendingSnapshot}`);
    if (!this.recentActive) parts.push("inactive");
    if (this.inflights.count() > 0) parts.push(`inflight=${this.inflights.count()}`);
    return parts.join(" ");
  }

  status(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      isLearner: this.isLearner,
      recentActive: this.recentActive,
      pendingSnapshot: this.pendingSnapshot,
      paused: this.isPaused(),
    };
  }
}
