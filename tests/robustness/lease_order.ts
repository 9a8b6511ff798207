// Where an unknown lease grant or revoke may go. One that changes no revision (a grant, or
// a revoke of a lease without keys) only matters to the requests whose outcome depends on
// that lease: moved to just before the first of them, a linearization stays valid. So the
// search takes it only there, and only if that request needs what it does (the lease to
// exist after a grant, to be gone after a revoke); elsewhere it would only multiply states.

import type { PreparedOp } from "./history.ts";
import { ErrLeaseExist, ErrLeaseNotFound, type Request } from "./types.ts";

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
