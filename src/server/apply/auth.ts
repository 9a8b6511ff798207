// Auth where entries are applied (etcd's authApplierV3): auth entries change the auth store,
// and every committed client write is checked again against the store at its place in the log,
// with the identity and auth revision its proposal carries.
import {
  applyAuth,
  type AuthStore,
  checkDeleteRange,
  checkLeaseRevoke,
  checkPut,
  checkTxn,
  type LeaseKeys,
} from "../../auth/mod.ts";
import type { Proposal, ResponseOf } from "../proposal.ts";

export function applyAuthEntry(
  store: AuthStore,
  p: Proposal<"auth">,
  index: number,
): ResponseOf<"auth"> {
  return applyAuth(store, p.request, p.auth, index);
}

/** Throws etcd's auth error when a committed client write is no longer permitted. */
export function authorizeApplied(store: AuthStore, p: Proposal, leaseKeys: LeaseKeys): void {
  if (!store.enabled || p.auth === undefined) return;
  switch (p.kind) {
    case "put":
      return checkPut(store, p.auth, p.request, leaseKeys);
    case "deleteRange":
      return checkDeleteRange(store, p.auth, p.request);
    case "txn":
      return checkTxn(store, p.auth, p.request, leaseKeys);
    case "leaseRevoke":
      return checkLeaseRevoke(store, p.auth, p.request.ID, leaseKeys);
  }
}
