// Auth where entries are applied (etcd's authApplierV3): an auth entry, etcd's message in its
// InternalRaftRequest field, changes the auth store; a new password arrives in clear and is
// hashed here, by every member with its own --bcrypt-cost, once the proposer is known to be
// root (etcd 3.4). Every committed client write is checked again against the store at its
// place in the log, with the user and auth revision of the entry's header.
import {
  applyAuth,
  type AuthInfo,
  type AuthRequest,
  type AuthStore,
  checkDeleteRange,
  checkLeaseRevoke,
  checkPut,
  checkTxn,
  hashPasswordSync,
  type LeaseKeys,
  NO_AUTH,
  toBase64,
} from "../../auth/mod.ts";
import type { AuthEntry, Proposal, ResponseOf } from "../proposal.ts";

const EMPTY = new Uint8Array();

/** The auth store's request for an entry; `hash` makes a new password's bcrypt hash. */
function authRequestOf(
  r: AuthEntry,
  revision: number,
  hash: (password: string) => string,
): AuthRequest | undefined {
  if (r.authEnable) return { op: "enable" };
  if (r.authDisable) return { op: "disable" };
  if (r.authenticate) {
    // The proposer checked the password at a revision it compares after the apply (etcd).
    const { name, simpleToken } = r.authenticate;
    return { op: "authenticate", name, simpleToken, revision };
  }
  if (r.authUserAdd) {
    const { name, password, options } = r.authUserAdd;
    const noPassword = options?.noPassword ?? false;
    return { op: "userAdd", name, noPassword, hashedPassword: noPassword ? "" : hash(password) };
  }
  if (r.authUserChangePassword) {
    const { name, password } = r.authUserChangePassword;
    return { op: "userChangePassword", name, hashedPassword: hash(password) };
  }
  if (r.authUserDelete) return { op: "userDelete", name: r.authUserDelete.name };
  if (r.authUserGrantRole) return { op: "userGrantRole", ...r.authUserGrantRole };
  if (r.authUserRevokeRole) return { op: "userRevokeRole", ...r.authUserRevokeRole };
  if (r.authRoleAdd) return { op: "roleAdd", name: r.authRoleAdd.name };
  if (r.authRoleDelete) return { op: "roleDelete", role: r.authRoleDelete.role };
  if (r.authRoleGrantPermission) {
    const { name, perm } = r.authRoleGrantPermission;
    return {
      op: "roleGrantPermission",
      name,
      permType: perm?.permType ?? 0,
      key: toBase64(perm?.key ?? EMPTY),
      rangeEnd: toBase64(perm?.rangeEnd ?? EMPTY),
    };
  }
  if (r.authRoleRevokePermission) {
    const { role, key, rangeEnd } = r.authRoleRevokePermission;
    return { op: "roleRevokePermission", role, key: toBase64(key), rangeEnd: toBase64(rangeEnd) };
  }
  // etcd 3.4 proposes its user and role reads too; applying them changes nothing.
  return undefined;
}

export function applyAuthEntry(
  store: AuthStore,
  bcryptCost: number,
  p: Proposal<"auth">,
  index: number,
): ResponseOf<"auth"> {
  const who: AuthInfo = p.auth ?? NO_AUTH;
  const hash = (password: string) => {
    // etcd-ts once proposed hashes; etcd refuses a non-root caller before hashing.
    if (p.legacy) return password;
    store.checkAdmin(who);
    return hashPasswordSync(password, bcryptCost);
  };
  const req = authRequestOf(p.request, store.revision, hash);
  return req ? applyAuth(store, req, who, index) : {};
}

/** Throws etcd's auth error when a committed client write is no longer permitted. */
export function authorizeApplied(store: AuthStore, p: Proposal, leaseKeys: LeaseKeys): void {
  // Old entries without a user were not checked where they were applied then.
  if (!store.enabled || (p.legacy && p.auth === undefined)) return;
  const who = p.auth ?? NO_AUTH;
  switch (p.kind) {
    case "put":
      return checkPut(store, who, p.request, leaseKeys);
    case "deleteRange":
      return checkDeleteRange(store, who, p.request);
    case "txn":
      return checkTxn(store, who, p.request, leaseKeys);
    case "leaseRevoke":
      return checkLeaseRevoke(store, who, p.request.ID, leaseKeys);
  }
}
