// Expiry on the primary: only the leader's lessor counts leases down. It keeps the expiry
// queue, hands expired leases out for revocation (again after a retry interval, in case the
// revoke proposal was lost), and on promotion spreads expiries so revocations never pile up.

import { LeaseError } from "./errors.ts";
import { ExpiryQueue } from "./expiry_queue.ts";
import { FOREVER, type Lease, remainingTTLOf } from "./lease_table.ts";

// etcd's leaseRevokeRate: revocations per second the leader aims not to exceed.
export const LEASE_REVOKE_RATE = 1000;

export class PrimaryExpiry {
  #primary = false;
  readonly #queue = new ExpiryQueue();
  #tickets = 0;

  constructor(readonly now: () => number, readonly retryMs: number) {}

  get primary(): boolean {
    return this.#primary;
  }

  /** A lease granted on the primary counts down at once; elsewhere it never expires. */
  start(l: Lease): void {
    if (this.#primary) this.#refresh(l, 0);
  }

  /** Gives a lease its TTL again, counted from now (a cleared checkpoint: the full TTL). */
  renew(l: Lease): void {
    // An expired lease is waiting for its revocation to commit; renewing it now would
    // promise a TTL the revocation is about to take away.
    if (l.expiry <= this.now()) throw new LeaseError("notFound");
    this.#refresh(l, 0);
  }

  /**
   * This member became the primary: every lease gets its full TTL (or its checkpointed remaining
   * TTL) plus `extendMs`. `leases` is the caller's own array (it may be reordered).
   */
  promote(leases: Lease[], extendMs: number): void {
    this.#primary = true;
    this.#queue.clear();
    for (const l of leases) this.#refresh(l, extendMs);
    if (leases.length >= LEASE_REVOKE_RATE) {
      spreadExpiries(leases, (l, at) => this.#schedule(l, at));
    }
  }

  demote(leases: Iterable<Lease>): void {
    this.#primary = false;
    this.#queue.clear();
    for (const l of leases) l.expiry = FOREVER;
  }

  /** Forgets every countdown (the table was reloaded); primary or not stays as it was. */
  reset(): void {
    this.#queue.clear();
  }

  /**
   * Up to `limit` leases past their expiry, for the caller to revoke; each is handed out again
   * after the retry interval unless its revocation applies first.
   */
  expired(find: (id: bigint) => Lease | undefined, limit: number): bigint[] {
    if (!this.#primary) return [];
    const now = this.now();
    const out: bigint[] = [];
    for (let top; out.length < limit && (top = this.#queue.popDue(now));) {
      const l = find(top.id);
      if (!l || l.ticket !== top.ticket) continue;
      out.push(l.id);
      this.#schedule(l, now + this.retryMs);
    }
    return out;
  }

  #schedule(l: Lease, at: number): void {
    l.ticket = ++this.#tickets;
    this.#queue.push({ id: l.id, at, ticket: l.ticket });
  }

  #refresh(l: Lease, extendMs: number): void {
    l.expiry = this.now() + remainingTTLOf(l) * 1000 + extendMs;
    this.#schedule(l, l.expiry);
  }
}

// After a promotion every lease expires one full TTL from now, so leases granted together
// expire together. Like etcd, cap the expiries in any one-second window at 3/4 of the revoke
// rate and space the overflow evenly after the window, so revocations never pile up.
function spreadExpiries(
  leases: Lease[],
  schedule: (l: Lease, at: number) => void,
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
