// Permission checks of client requests, in one place. A request is checked before it is
// proposed (so a refusal costs no Raft round) and a write again when it is applied, against the
// auth store at that point of the log: the proposal carries who sent it and the auth revision
// it was checked at, and a change of users, roles or permissions in between refuses it with
// "revision of auth store is old" (clients then re-authenticate and retry), as etcd does.
import { AuthError } from "./errors.ts";
import { type AuthInfo, type AuthStore, NO_AUTH } from "./store.ts";

const EMPTY = new Uint8Array(0);

interface KeyRange {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
}
interface PutLike {
  key: Uint8Array;
  prevKv?: boolean;
  lease?: bigint;
}
interface DeleteLike extends KeyRange {
  prevKv?: boolean;
}
interface OpLike {
  requestRange?: KeyRange;
  requestPut?: PutLike;
  requestDeleteRange?: DeleteLike;
  requestTxn?: TxnLike;
}
interface TxnLike {
  compare?: KeyRange[];
  success?: OpLike[];
  failure?: OpLike[];
}

/** The keys attached to a lease (none for an unknown one). */
export type LeaseKeys = (id: bigint) => Uint8Array[];

/** What a gRPC call offers to identify its user. */
export interface CallIdentity {
  metadata: Record<string, string>;
  peerCertificate(): { subject?: { CN?: string | string[] } } | undefined;
}

/**
 * The call's user: its `token` metadata (`authorization` through the JSON gateway), else the
 * CN of its verified client certificate with --client-cert-auth. NO_AUTH while auth is off.
 */
export function authInfoOf(store: AuthStore, call: CallIdentity): AuthInfo {
  if (!store.enabled) return NO_AUTH;
  const md = call.metadata;
  return store.authInfo(md["token"] ?? md["authorization"], () => {
    const cn = call.peerCertificate()?.subject?.CN;
    return Array.isArray(cn) ? cn[0] : cn;
  });
}

export function checkRange(store: AuthStore, ai: AuthInfo, r: KeyRange): void {
  if (!store.enabled) return;
  store.checkKeys(ai, r.key, r.rangeEnd ?? EMPTY, "read");
}

/** A put needs write on its key, read too with prev_kv, and write on its lease's keys. */
export function checkPut(store: AuthStore, ai: AuthInfo, r: PutLike, leaseKeys: LeaseKeys): void {
  if (!store.enabled) return;
  store.checkKeys(ai, r.key, EMPTY, "write");
  // A lease this user could not revoke must not gain keys from it either.
  if (r.lease) { for (const k of leaseKeys(r.lease)) store.checkKeys(ai, k, EMPTY, "write"); }
  if (r.prevKv) store.checkKeys(ai, r.key, EMPTY, "read");
}

export function checkDeleteRange(store: AuthStore, ai: AuthInfo, r: DeleteLike): void {
  if (!store.enabled) return;
  store.checkKeys(ai, r.key, r.rangeEnd ?? EMPTY, "write");
  if (r.prevKv) store.checkKeys(ai, r.key, r.rangeEnd ?? EMPTY, "read");
}

/** A txn needs read on every compare and whatever each of its operations needs. */
export function checkTxn(store: AuthStore, ai: AuthInfo, r: TxnLike, leaseKeys: LeaseKeys): void {
  if (!store.enabled) return;
  for (const c of r.compare ?? []) checkRange(store, ai, c);
  for (const op of [...(r.success ?? []), ...(r.failure ?? [])]) {
    if (op.requestRange) checkRange(store, ai, op.requestRange);
    else if (op.requestPut) checkPut(store, ai, { key: op.requestPut.key }, leaseKeys);
    else if (op.requestDeleteRange) checkDeleteRange(store, ai, op.requestDeleteRange);
    else if (op.requestTxn) checkTxn(store, ai, op.requestTxn, leaseKeys);
  }
}

/** Revoking a lease deletes its keys: it needs write on each. */
export function checkLeaseRevoke(
  store: AuthStore,
  ai: AuthInfo,
  id: bigint,
  leaseKeys: LeaseKeys,
): void {
  if (!store.enabled) return;
  for (const k of leaseKeys(id)) store.checkKeys(ai, k, EMPTY, "write");
}

/** Whether a watch may be created: read on its range, with a valid identity. */
export function watchPermitted(store: AuthStore, call: CallIdentity, r: KeyRange): boolean {
  if (!store.enabled) return true;
  try {
    checkRange(store, authInfoOf(store, call), r);
    return true;
  } catch (err) {
    if (err instanceof AuthError) return false;
    throw err;
  }
}

/** Membership changes and the auth service's management calls are the root role's. */
export function checkAdmin(store: AuthStore, call: CallIdentity): AuthInfo {
  const ai = authInfoOf(store, call);
  store.checkAdmin(ai);
  return ai;
}
