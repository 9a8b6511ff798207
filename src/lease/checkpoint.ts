// Lease checkpoints (etcd 3.4's --experimental-enable-lease-checkpoint): the primary records a
// lease's remaining TTL through Raft once per interval, so that a new leader resumes it from there
// instead of from the full TTL. Only leases whose remaining TTL exceeds the interval are
// scheduled, as etcd does: shorter ones would expire before their checkpoint mattered.

import { ExpiryQueue } from "./expiry_queue.ts";
import { type Lease, remainingTTLOf } from "./lease_table.ts";

/** etcd's defaultLeaseCheckpointInterval; 3.4 has no flag for it. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;
// etcd's leaseCheckpointRate (per second, spent in half-second rounds) and batch size.
const CHECKPOINT_RATE = 1000;
export const MAX_CHECKPOINT_BATCH = 1000;

/** One lease's remaining TTL in seconds (etcdserverpb.LeaseCheckpoint); 0 clears it. */
export interface LeaseCheckpoint {
  ID: bigint;
  remainingTTL: number;
}

/** Hands checkpoints to Raft (etcd's Checkpointer); they come back through `checkpoint()`. */
export type Checkpointer = (checkpoints: LeaseCheckpoint[]) => void;

export interface CheckpointOptions {
  intervalMs?: number;
  /** Save checkpointed remaining TTLs with the lease (--experimental-enable-lease-checkpoint-persist). */
  persist?: boolean;
}

/** The primary's schedule of due checkpoints; empty (and inert) until a checkpointer is set. */
export class CheckpointSchedule {
  #cp?: Checkpointer;
  #intervalMs = DEFAULT_CHECKPOINT_INTERVAL_MS;
  #persist = false;
  readonly #queue = new ExpiryQueue();

  constructor(readonly now: () => number) {}

  enable(cp: Checkpointer, opts: CheckpointOptions = {}): void {
    this.#cp = cp;
    this.#intervalMs = opts.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.#persist = opts.persist ?? false;
  }

  get persist(): boolean {
    return this.#persist;
  }

  /** Schedules the lease's next checkpoint one interval from now, if it will outlive it. */
  scheduleIfNeeded(l: Lease): void {
    if (!this.#cp) return;
    if (remainingTTLOf(l) > Math.trunc(this.#intervalMs / 1000)) {
      this.#queue.push({ id: l.id, at: this.now() + this.#intervalMs, ticket: 0 });
    }
  }

  clear(): void {
    this.#queue.clear();
  }

  /**
   * The checkpoints due now, at most `limit`: each lease's remaining TTL rounded up, skipping
   * leases gone, expired, or still at their full TTL (etcd's findDueScheduledCheckpoints).
   */
  due(find: (id: bigint) => Lease | undefined, limit: number): LeaseCheckpoint[] {
    if (!this.#cp) return [];
    const now = this.now();
    const out: LeaseCheckpoint[] = [];
    for (let top; out.length < limit && (top = this.#queue.popDue(now));) {
      const l = find(top.id);
      if (!l || now >= l.expiry) continue;
      const remainingTTL = Math.ceil((l.expiry - now) / 1000);
      if (remainingTTL >= l.ttl) continue;
      out.push({ ID: l.id, remainingTTL });
    }
    return out;
  }

  /** One round of etcd's checkpointScheduledLeases: due batches to the checkpointer. */
  checkpointScheduled(find: (id: bigint) => Lease | undefined): void {
    for (let i = 0; i < CHECKPOINT_RATE / 2; i++) {
      const cps = this.due(find, MAX_CHECKPOINT_BATCH);
      if (cps.length > 0) this.#cp!(cps);
      if (cps.length < MAX_CHECKPOINT_BATCH) return;
    }
  }

  /**
   * The checkpoint a keep-alive must commit first: a lease renewed to its full TTL forgets its
   * checkpoint, or a later leader would resume it from the stale remaining TTL.
   */
  clearing(l: Lease): LeaseCheckpoint | undefined {
    if (this.#cp && l.remainingTTL > 0) return { ID: l.id, remainingTTL: 0 };
  }
}
