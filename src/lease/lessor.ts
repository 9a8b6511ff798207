// The lessor: etcd 3.4's lease bookkeeping as a deterministic module.
//
// Replicated state (IDs, granted TTLs, attached keys) changes only through grant/revoke/
// attach/detach, which the server calls from the raft apply path, so every member holds the
// same leases. Expiry times are local: only the leader (the "primary") tracks them, and it
// turns expiries into LeaseRevoke proposals; followers hold every lease "forever". Remaining
// TTLs are not persisted (checkpointing is off in 3.4): a new leader gives every lease its
// full TTL again, plus an election timeout.

import { LeaseError } from "./errors.ts";
import { ExpiryQueue } from "./expiry_queue.ts";
import { binaryToBytes, bytesToBinary } from "../mvcc/mod.ts";

// etcd's MaxLeaseTTL, in seconds.
export const MAX_LEASE_TTL = 9_000_000_000;
// etcd's NoLease: a key with lease 0 has no lease.
export const NO_LEASE = 0n;
// etcd's leaseRevokeRate: revocations per second the leader aims not to exceed.
export const LEASE_REVOKE_RATE = 1000;
// What etcd reports as the remaining TTL of a lease that never expires (a follower's view):
// the largest Go duration, in whole seconds.
export const FOREVER_TTL_SECONDS = 9_223_372_036;

const FOREVER = Infinity;

// The backend side of the lessor. The server implements it on the backend, in the same
// transaction as the key changes of the entry being applied.
export interface LeasePersistence {
  saveLease(id: bigint, ttl: number): void;
  deleteLease(id: bigint): void;
  loadLeases(): { id: bigint; ttl: number }[];
}

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
}

interface LeaseState {
  id: bigint;
  ttl: number;
  expiry: number;
  // Ticket of the lease's live entry in the expiry queue (older entries are stale).
  ticket: number;
  keys: Set<string>;
}

export function createLessor(cfg: LessorConfig): Lessor {
  const retryMs = cfg.expiredRetryIntervalMs ?? 3000;
  const leaseMap = new Map<bigint, LeaseState>();
  const itemMap = new Map<string, bigint>();
  const queue = new ExpiryQueue();
  let primary = false;
  let tickets = 0;

  const schedule = (l: LeaseState, at: number) => {
    l.ticket = ++tickets;
    queue.push({ id: l.id, at, ticket: l.ticket });
  };

  const refresh = (l: LeaseState, extendMs: number) => {
    l.expiry = cfg.now() + l.ttl * 1000 + extendMs;
    schedule(l, l.expiry);
  };

  const mustGet = (id: bigint): LeaseState => {
    const l = leaseMap.get(id);
    if (!l) throw new LeaseError("notFound");
    return l;
  };

  const view = (l: LeaseState): LeaseView => ({ ID: l.id, TTL: l.ttl, expiry: l.expiry });

  // A lease with no keys that never expires until a primary refreshes it.
  const newLease = (id: bigint, ttl: number): LeaseState => ({
    id,
    ttl: Math.max(ttl, cfg.minTTL),
    expiry: FOREVER,
    ticket: 0,
    keys: new Set(),
  });

  const sortedKeys = (l: LeaseState): Uint8Array[] => [...l.keys].sort().map(binaryToBytes);

  const load = () => {
    leaseMap.clear();
    itemMap.clear();
    queue.clear();
    for (const { id, ttl } of cfg.persistence.loadLeases()) leaseMap.set(id, newLease(id, ttl));
    // Restored leases stay "forever" until this member is promoted, also on a leader: a
    // backend restore means the expiries it tracked no longer describe this state.
  };

  load();

  return {
    grant(id, ttl) {
      if (id === NO_LEASE) throw new LeaseError("notFound");
      if (ttl > MAX_LEASE_TTL) throw new LeaseError("ttlTooLarge");
      if (leaseMap.has(id)) throw new LeaseError("exists");
      const l = newLease(id, ttl);
      if (primary) refresh(l, 0);
      leaseMap.set(id, l);
      cfg.persistence.saveLease(id, l.ttl);
      return view(l);
    },

    revoke(id) {
      const l = mustGet(id);
      // Sorted so every member deletes the keys in the same order (same revisions).
      const keys = sortedKeys(l);
      for (const k of l.keys) itemMap.delete(k);
      leaseMap.delete(id);
      cfg.persistence.deleteLease(id);
      return keys;
    },

    attach(id, key) {
      const l = mustGet(id);
      const k = bytesToBinary(key);
      const previous = itemMap.get(k);
      if (previous !== undefined && previous !== id) leaseMap.get(previous)?.keys.delete(k);
      l.keys.add(k);
      itemMap.set(k, id);
    },

    detach(id, key) {
      // An unknown lease is not an error here: the keys of a revoked lease are deleted after
      // the lease itself is gone (etcd's mvcc only logs the error in that case).
      const l = leaseMap.get(id);
      if (!l) return;
      const k = bytesToBinary(key);
      l.keys.delete(k);
      if (itemMap.get(k) === id) itemMap.delete(k);
    },

    leaseOf(key) {
      return itemMap.get(bytesToBinary(key)) ?? NO_LEASE;
    },

    lookup(id) {
      const l = leaseMap.get(id);
      return l && view(l);
    },

    timeToLive(id, withKeys) {
      const l = leaseMap.get(id);
      if (!l) return { ID: id, TTL: -1, grantedTTL: 0, keys: [] };
      const remaining = l.expiry === FOREVER
        ? FOREVER_TTL_SECONDS
        : Math.trunc((l.expiry - cfg.now()) / 1000);
      return { ID: id, TTL: remaining, grantedTTL: l.ttl, keys: withKeys ? sortedKeys(l) : [] };
    },

    leases() {
      // etcd lists leases by remaining time; ties (every lease on a follower) by ID.
      return [...leaseMap.values()]
        .sort((a, b) => a.expiry - b.expiry || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        .map((l) => l.id);
    },

    renew(id) {
      if (!primary) throw new LeaseError("notPrimary");
      const l = mustGet(id);
      // An expired lease is waiting for its revocation to commit; renewing it now would
      // promise a TTL the revocation is about to take away.
      if (l.expiry <= cfg.now()) throw new LeaseError("notFound");
      refresh(l, 0);
      return l.ttl;
    },

    isPrimary: () => primary,

    promote(extendMs) {
      primary = true;
      queue.clear();
      for (const l of leaseMap.values()) refresh(l, extendMs);
      if (leaseMap.size >= LEASE_REVOKE_RATE) spreadExpiries([...leaseMap.values()], schedule);
    },

    demote() {
      primary = false;
      queue.clear();
      for (const l of leaseMap.values()) l.expiry = FOREVER;
    },

    expired(limit = LEASE_REVOKE_RATE / 2) {
      if (!primary) return [];
      const now = cfg.now();
      const out: bigint[] = [];
      while (out.length < limit) {
        const top = queue.peek();
        if (!top || top.at > now) break;
        queue.pop();
        const l = leaseMap.get(top.id);
        if (!l || l.ticket !== top.ticket) continue;
        out.push(l.id);
        schedule(l, now + retryMs);
      }
      return out;
    },

    restore() {
      load();
    },
  };
}

// After a promotion every lease expires one full TTL from now, so leases granted together
// expire together. Like etcd, cap the expiries in any one-second window at 3/4 of the revoke
// rate and space the overflow evenly after the window, so revocations never pile up.
function spreadExpiries(
  leases: LeaseState[],
  schedule: (l: LeaseState, at: number) => void,
): void {
  const perSecond = (3 * LEASE_REVOKE_RATE) / 4;
  leases.sort((a, b) => a.expiry - b.expiry || (a.id < b.id ? -1 : 1));
  let windowStart = -Infinity, windowEnd = -Infinity, count = 0;
  for (const l of leases) {
    if (l.expiry > windowEnd) {
      windowStart = l.expiry;
      windowEnd = windowStart + 1000;
      count = 1;
      continue;
    }
    count++;
    if (count <= perSecond) continue;
    const at = windowStart + (count * 1000) / perSecond;
    if (at > l.expiry) {
      l.expiry = at;
      schedule(l, at);
    }
    windowEnd = Math.max(windowEnd, at);
  }
}
