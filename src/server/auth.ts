// The member's side of auth: applying auth entries and re-checking committed writes against
// the auth store where they land in the log (etcd's authApplierV3).
import { applyAuth, type AuthRequest, checkApplied, type LeaseKeys } from "../auth/mod.ts";
import type { ApplyResult } from "./apply.ts";
import type { InternalRequest } from "./request.ts";
import type { EtcdServer } from "./server.ts";

/** The keys attached to a lease, for the checks that guard lease revocation. */
export function leaseKeysOf(s: EtcdServer): LeaseKeys {
  return (id) => s.state.lessor.timeToLive(id, true).keys;
}

/** Throws etcd's auth error when a committed client write is no longer permitted. */
export function authorizeApplied(s: EtcdServer, r: InternalRequest): void {
  if (r.auth !== undefined) checkApplied(s.auth, r, leaseKeysOf(s));
}

export function applyAuthEntry(s: EtcdServer, r: InternalRequest, index: number): ApplyResult {
  return { response: applyAuth(s.auth, r.body as AuthRequest, r.auth, index) };
}
