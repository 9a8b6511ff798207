// Expired leases on the leader (etcd's revokeExpiredLeases): every half second, as etcd's
// lessor loop, the leader proposes the revocation of each lease whose TTL has run out. The
// revocation is proposed as root, so that auth lets it delete the lease's keys (etcd's WithRoot).
import { type AuthInfo, type AuthStore, ROOT_USER } from "../auth/mod.ts";
import type { Lessor } from "../lease/mod.ts";
import { serverMetrics } from "../metrics/mod.ts";
import type { Propose } from "./proposer.ts";

/** etcd's lessor loop period. */
const LOOP_MS = 500;

export interface LeaseExpiryDeps {
  lessor: Lessor;
  proposer: Propose;
  authStore: AuthStore;
  /** This member leads and has not stopped. */
  isLeader(): boolean;
}

/** Starts the loop; clearing the returned interval stops it. */
export function startLeaseExpiry(deps: LeaseExpiryDeps): ReturnType<typeof setInterval> {
  return setInterval(() => revokeExpiredLeases(deps), LOOP_MS);
}

function revokeExpiredLeases(deps: LeaseExpiryDeps): void {
  if (!deps.isLeader()) return;
  for (const id of deps.lessor.expired()) {
    void deps.proposer.propose("leaseRevoke", { ID: id }, { auth: asRoot(deps.authStore) })
      .then(() => serverMetrics.leaseExpired.inc(), () => {});
  }
}

function asRoot(auth: AuthStore): AuthInfo | undefined {
  return auth.enabled ? { username: ROOT_USER, revision: auth.revision } : undefined;
}
