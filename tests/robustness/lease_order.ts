// Where an unknown lease grant or revoke may go. One that changes no revision (a grant, or
// a revoke of a lease without keys) only matters to the requests whose outcome depends on
// that lease: moved to just before the first of them, a linearization stays valid. So the
// search takes it only there, and only if that request needs what it does (the lease to
// exist after a grant, to be gone after a revoke); elsewhere it would only multiply states.

import type { PreparedOp } from "./history.ts";
import { ErrLeaseExist, ErrLeaseNotFound, type Request } from "./types.ts";

/** The lease needs of a history's operations, and who waits on which lease. */
export class LeaseOrder {
  /** Per operation: neutralLease(). */
  readonly neutral: number[];
  readonly needs: LeaseNeeds[];
  /** +id: the operations that need lease id to exist; -id: to be gone. */
  readonly #needers = new Map<number, number[]>();

  constructor(readonly ops: PreparedOp[]) {
    this.neutral = ops.map(neutralLease);
    this.needs = ops.map(leaseNeeds);
    this.needs.forEach((n, id) => {
      for (const lease of n.present) {
        this.#needers.set(lease, [...this.#needers.get(lease) ?? [], id]);
      }
      for (const lease of n.absent) {
        this.#needers.set(-lease, [...this.#needers.get(-lease) ?? [], id]);
      }
    });
  }

  /**
   * Whether a lease grant or revoke that changed no revision can go now with no other order
   * tried: nothing pending that names its lease could still come before it.
   */
  alone(id: number, taken: Uint8Array): boolean {
    const r = this.ops[id].request;
    if (r.type !== "leaseGrant" && r.type !== "leaseRevoke") return false;
    const naming = [...this.#needers.get(r.id) ?? [], ...this.#needers.get(-r.id) ?? []];
    return naming.every((n) => n === id || taken[n] || this.ops[n].call >= this.ops[id].ret);
  }

  /** Whether a pending request called by `frontier` needs what unknown operation `id` does. */
  wanted(id: number, taken: Uint8Array, frontier: number): boolean {
    const waiting = this.#needers.get(this.neutral[id]) ?? [];
    return waiting.some((n) => n !== id && !taken[n] && this.ops[n].call <= frontier);
  }
}

/** +id for an unknown grant, -id for an unknown revoke, 0 for anything else. */
export function neutralLease(op: PreparedOp): number {
  if (op.kind !== "optional") return 0;
  if (op.request.type === "leaseGrant") return op.request.id;
  return op.request.type === "leaseRevoke" ? -op.request.id : 0;
}

/** The leases a request needs to exist, and to be gone, to get its recorded outcome. */
export interface LeaseNeeds {
  present: number[];
  absent: number[];
}

export function leaseNeeds(op: PreparedOp): LeaseNeeds {
  const o = op.operation.outcome, r = op.request;
  const named = leasesNamed(r);
  if (o.status === "error") {
    if (o.error === ErrLeaseNotFound) return { present: [], absent: named };
    return { present: o.error === ErrLeaseExist ? named : [], absent: [] };
  }
  // Granting needs the lease not to exist yet; anything else that names it needs it.
  return r.type === "leaseGrant" ? { present: [], absent: named } : { present: named, absent: [] };
}

/** Whether a request may come right after the unknown lease operation `awaiting` names. */
export function needsNow(needs: LeaseNeeds, awaiting: number): boolean {
  return awaiting > 0 ? needs.present.includes(awaiting) : needs.absent.includes(-awaiting);
}

function leasesNamed(request: Request): number[] {
  if (request.type === "leaseGrant" || request.type === "leaseRevoke") return [request.id];
  if (request.type === "put") return request.lease ? [request.lease] : [];
  if (request.type !== "txn") return [];
  return [...request.success, ...request.failure].flatMap(leasesNamed);
}
