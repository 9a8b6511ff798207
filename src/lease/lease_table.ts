// The replicated half of the lessor (etcd's leaseMap and itemMap): the leases with their
// granted TTLs, saved through LeasePersistence in the apply's own transaction, and the keys
// attached to each. Only the apply path changes it, so every member holds the same table.

import { LeaseError } from "./errors.ts";
import { binaryToBytes, bytesToBinary } from "../mvcc/mod.ts";

/** The expiry of a lease nobody counts down: every lease on a follower. */
export const FOREVER = Infinity;

// The backend side of the lessor. The server implements it on the backend, in the same
// transaction as the key changes of the entry being applied. A remaining TTL is saved only by
// members that persist checkpoints (etcd's leasepb.Lease RemainingTTL); 0 or absent means none.
export interface LeasePersistence {
  saveLease(id: bigint, ttl: number, remainingTTL?: number): void;
  deleteLease(id: bigint): void;
  loadLeases(): { id: bigint; ttl: number; remainingTTL?: number }[];
}

/** One lease (etcd's Lease): replicated ID, TTL and keys; a local expiry. */
export interface Lease {
  readonly id: bigint;
  // Granted TTL in seconds, raised to the minimum.
  readonly ttl: number;
  // The last checkpointed remaining TTL in seconds (replicated); 0: none, the full TTL counts.
  remainingTTL: number;
  // Expiry in the clock's milliseconds; FOREVER unless this member is the primary.
  expiry: number;
  // Ticket of the lease's live entry in the expiry queue (older entries are stale).
  ticket: number;
  // Attached keys, in mvcc's binary-string form.
  readonly keys: Set<string>;
}

export class LeaseTable {
  readonly #leases = new Map<bigint, Lease>();
  // Which lease each attached key belongs to: a key has at most one.
  readonly #items = new Map<string, bigint>();

  constructor(readonly persistence: LeasePersistence, readonly minTTL: number) {}

  /** A lease with no keys that never expires until a primary refreshes it. */
  newLease(id: bigint, ttl: number, remainingTTL = 0): Lease {
    const l = { id, ttl: Math.max(ttl, this.minTTL), remainingTTL, expiry: FOREVER, ticket: 0 };
    return { ...l, keys: new Set() };
  }

  /** Replaces the table with the backend's leases, without keys: the caller attaches them. */
  load(): void {
    this.#leases.clear();
    this.#items.clear();
    for (const { id, ttl, remainingTTL } of this.persistence.loadLeases()) {
      this.#leases.set(id, this.newLease(id, ttl, remainingTTL));
    }
  }

  has(id: bigint): boolean {
    return this.#leases.has(id);
  }

  get(id: bigint): Lease | undefined {
    return this.#leases.get(id);
  }

  mustGet(id: bigint): Lease {
    const l = this.#leases.get(id);
    if (!l) throw new LeaseError("notFound");
    return l;
  }

  all(): IterableIterator<Lease> {
    return this.#leases.values();
  }

  /** Adds a granted lease and saves it. */
  add(l: Lease): void {
    this.#leases.set(l.id, l);
    this.save(l);
  }

  /** Saves a lease's TTL and its checkpointed remaining TTL. */
  save(l: Lease): void {
    this.persistence.saveLease(l.id, l.ttl, l.remainingTTL);
  }

  /** Removes a lease and its attachments; returns its keys for the caller to delete. */
  revoke(id: bigint): Uint8Array[] {
    const l = this.mustGet(id);
    // Sorted so every member deletes the keys in the same order (same revisions).
    const keys = sortedKeys(l);
    for (const k of l.keys) this.#items.delete(k);
    this.#leases.delete(id);
    this.persistence.deleteLease(id);
    return keys;
  }

  attach(id: bigint, key: Uint8Array): void {
    const l = this.mustGet(id);
    const k = bytesToBinary(key);
    // A key moves to its new lease: the old one no longer revokes it.
    const previous = this.#items.get(k);
    if (previous !== undefined && previous !== id) this.#leases.get(previous)?.keys.delete(k);
    l.keys.add(k);
    this.#items.set(k, id);
  }

  detach(id: bigint, key: Uint8Array): void {
    // An unknown lease is not an error here: the keys of a revoked lease are deleted after
    // the lease itself is gone (etcd's mvcc only logs the error in that case).
    const l = this.#leases.get(id);
    if (!l) return;
    const k = bytesToBinary(key);
    l.keys.delete(k);
    if (this.#items.get(k) === id) this.#items.delete(k);
  }

  /** The lease a key is attached to, or undefined. */
  leaseOf(key: Uint8Array): bigint | undefined {
    return this.#items.get(bytesToBinary(key));
  }
}

/** What a countdown starts from: the checkpointed remaining TTL, else the granted TTL. */
export function remainingTTLOf(l: Lease): number {
  return l.remainingTTL > 0 ? l.remainingTTL : l.ttl;
}

/** A lease's keys in byte order. */
export function sortedKeys(l: Lease): Uint8Array[] {
  return [...l.keys].sort().map(binaryToBytes);
}
