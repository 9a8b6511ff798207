// The lessor: etcd 3.4's lease bookkeeping as a deterministic module.
//
// Replicated state (IDs, granted TTLs, attached keys) changes only through grant/revoke/
// attach/detach, which the server calls from the raft apply path, so every member holds the
// same leases. Expiry times are local: only the leader (the "primary") tracks them, and it
// turns expiries into LeaseRevoke proposals; followers hold every lease "forever". A new leader
// gives every lease its full TTL again, plus an election timeout, unless the lease has a
// checkpointed remaining TTL (--experimental-enable-lease-checkpoint, off by default in 3.4):
// then it resumes from that.

import { leaseMetrics } from "../metrics/mod.ts";
import { LeaseError } from "./errors.ts";
import {
  FOREVER,
  type Lease,
  type LeasePersistence,
  LeaseTable,
  sortedKeys,
} from "./lease_table.ts";
import { LEASE_REVOKE_RATE, PrimaryExpiry } from "./expiry.ts";
import {
  type Checkpointer,
  type CheckpointOptions,
  CheckpointSchedule,
  type LeaseCheckpoint,
} from "./checkpoint.ts";

// etcd's MaxLeaseTTL, in seconds.
export const MAX_LEASE_TTL = 9_000_000_000;
// etcd's NoLease: a key with lease 0 has no lease.
export const NO_LEASE = 0n;
// What etcd reports as the remaining TTL of a lease that never expires (a follower's view):
// the largest Go duration, in whole seconds.
export const FOREVER_TTL_SECONDS = 9_223_372_036;

export interface LessorConfig {
  // Minimum TTL in seconds (see minLeaseTTL); shorter grants are raised to it.
  minTTL: number;
  // Wall clock in milliseconds; only expiry bookkeeping reads it.
  now(): number;
  persistence: LeasePersistence;
  // How long an expired lease that was handed out by expired() waits before it is handed
  // out again (its revoke proposal may have been lost). etcd's default is 3 s.
  expiredRetryIntervalMs?: number;
}

export interface LeaseView {
  ID: bigint;
  // Granted TTL in seconds (after raising to the minimum).
  TTL: number;
  // Expiry in the clock's milliseconds; Infinity when this member does not expire it.
  expiry: number;
}

export interface LeaseTimeToLive {
  ID: bigint;
  // Remaining seconds (truncated as etcd does); -1 for an unknown lease.
  TTL: number;
  grantedTTL: number;
  keys: Uint8Array[];
}

export interface Lessor {
  grant(id: bigint, ttl: number): LeaseView;
  revoke(id: bigint): Uint8Array[];
  attach(id: bigint, key: Uint8Array): void;
  detach(id: bigint, key: Uint8Array): void;
  leaseOf(key: Uint8Array): bigint;
  lookup(id: bigint): LeaseView | undefined;
  timeToLive(id: bigint, withKeys: boolean): LeaseTimeToLive;
  leases(): bigint[];
  renew(id: bigint): number;
  isPrimary(): boolean;
  promote(extendMs: number): void;
  demote(): void;
  expired(limit?: number): bigint[];
  restore(): void;
  /** Turns checkpointing on: the primary hands due checkpoints to `cp` (etcd's SetCheckpointer). */
  setCheckpointer(cp: Checkpointer, opts?: CheckpointOptions): void;
  /** Applies a committed checkpoint: the lease's remaining TTL for its next countdown. */
  checkpoint(id: bigint, remainingTTL: number): void;
  /** On the primary, hands the checkpoints due now to the checkpointer. */
  checkpointScheduled(): void;
  /** The checkpoint a keep-alive of this lease must commit before renewing, if any. */
  renewalCheckpoint(id: bigint): LeaseCheckpoint | undefined;
}

const view = (l: Lease): LeaseView => ({ ID: l.id, TTL: l.ttl, expiry: l.expiry });

/**
 * The lessor's surface over its parts: the replicated lease table (grants, revocations,
 * attached keys, checkpointed remaining TTLs), the primary's expiry countdown and its
 * checkpoint schedule.
 */
export function createLessor(cfg: LessorConfig): Lessor {
  const table = new LeaseTable(cfg.persistence, cfg.minTTL);
  const expiry = new PrimaryExpiry(cfg.now, cfg.expiredRetryIntervalMs ?? 3000);
  const checkpoints = new CheckpointSchedule(cfg.now);
  const find = (id: bigint) => table.get(id);
  const load = () => {
    expiry.reset();
    checkpoints.clear();
    table.load();
    // Restored leases stay "forever" until this member is promoted, also on a leader: a
    // backend restore means the expiries it tracked no longer describe this state.
  };

  load();

  return {
    grant(id, ttl) {
      if (id === NO_LEASE) throw new LeaseError("notFound");
      if (ttl > MAX_LEASE_TTL) throw new LeaseError("ttlTooLarge");
      if (table.has(id)) throw new LeaseError("exists");
      const l = table.newLease(id, ttl);
      expiry.start(l);
      table.add(l);
      leaseMetrics.granted.inc();
      leaseMetrics.ttl.observe(l.ttl);
      if (expiry.primary) checkpoints.scheduleIfNeeded(l);
      return view(l);
    },
    revoke(id) {
      const keys = table.revoke(id);
      leaseMetrics.revoked.inc();
      return keys;
    },
    attach: (id, key) => table.attach(id, key),
    detach: (id, key) => table.detach(id, key),
    ...tableReads(table, cfg.now),

    renew(id) {
      if (!expiry.primary) throw new LeaseError("notPrimary");
      const l = table.mustGet(id);
      expiry.renew(l);
      leaseMetrics.renewed.inc();
      return l.ttl;
    },

    isPrimary: () => expiry.primary,
    promote(extendMs) {
      const leases = [...table.all()];
      expiry.promote(leases, extendMs);
      for (const l of leases) checkpoints.scheduleIfNeeded(l);
    },
    demote() {
      expiry.demote(table.all());
      checkpoints.clear();
    },
    expired: (limit = LEASE_REVOKE_RATE / 2) => expiry.expired(find, limit),
    restore: load,
    ...checkpointing(table, expiry, checkpoints),
  };
}

type TableReads = Pick<Lessor, "leaseOf" | "lookup" | "timeToLive" | "leases">;

/** What the lease table answers: a key's lease, a lease, its remaining time, the leases. */
function tableReads(table: LeaseTable, now: () => number): TableReads {
  return {
    leaseOf: (key) => table.leaseOf(key) ?? NO_LEASE,

    lookup(id) {
      const l = table.get(id);
      return l && view(l);
    },

    timeToLive(id, withKeys) {
      const l = table.get(id);
      if (!l) return { ID: id, TTL: -1, grantedTTL: 0, keys: [] };
      const remaining = l.expiry === FOREVER
        ? FOREVER_TTL_SECONDS
        : Math.trunc((l.expiry - now()) / 1000);
      return { ID: id, TTL: remaining, grantedTTL: l.ttl, keys: withKeys ? sortedKeys(l) : [] };
    },

    leases() {
      // etcd lists leases by remaining time; ties (every lease on a follower) by ID.
      return [...table.all()]
        .sort((a, b) => a.expiry - b.expiry || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((l) => l.id);
    },
  };
}

type Checkpointing = Pick<
  Lessor,
  "setCheckpointer" | "checkpoint" | "checkpointScheduled" | "renewalCheckpoint"
>;

function checkpointing(
  table: LeaseTable,
  expiry: PrimaryExpiry,
  checkpoints: CheckpointSchedule,
): Checkpointing {
  const find = (id: bigint) => table.get(id);
  return {
    setCheckpointer: (cp, opts) => checkpoints.enable(cp, opts),
    checkpoint(id, remainingTTL) {
      const l = table.get(id);
      if (!l) return;
      // Only the remaining TTL changes: the next promotion counts down from it.
      l.remainingTTL = remainingTTL;
      if (checkpoints.persist) table.save(l);
      if (expiry.primary) checkpoints.scheduleIfNeeded(l);
    },
    checkpointScheduled() {
      if (expiry.primary) checkpoints.checkpointScheduled(find);
    },
    renewalCheckpoint(id) {
      const l = table.get(id);
      if (!expiry.primary || !l || l.expiry <= expiry.now()) return undefined;
      return checkpoints.clearing(l);
    },
  };
}
