// The one table from the member's errors to what etcd's clients see (etcd's v3rpc togRPCError):
// the key space's, the lessor's and the auth store's own errors become etcd's client-facing
// errors, with their gRPC status and exact message. Everything the transports answer passes
// through `toEtcdError`.
import { Errors, EtcdError, GrpcCode } from "../errors/mod.ts";
import { MvccError, type MvccErrorReason } from "../mvcc/mod.ts";
import { LeaseError, type LeaseErrorReason } from "../lease/mod.ts";
import { AuthError, type AuthErrorReason } from "../auth/mod.ts";

const mvccErrors: Record<MvccErrorReason, () => EtcdError> = {
  compacted: Errors.compacted,
  futureRev: Errors.futureRev,
};

const leaseErrors: Record<LeaseErrorReason, () => EtcdError> = {
  notFound: Errors.leaseNotFound,
  exists: Errors.leaseExist,
  ttlTooLarge: Errors.leaseTTLTooLarge,
  // A lessor that stopped being primary mid-request: the member is no longer the leader.
  notPrimary: Errors.notLeader,
};

// etcd returns a token signing failure as it is: no status of its own, so code Unknown.
const unknownAuth = (err: AuthError) => new EtcdError(GrpcCode.Unknown, err.message);

const authErrors: Record<AuthErrorReason, (err: AuthError) => EtcdError> = {
  rootUserNotExist: Errors.rootUserNotExist,
  rootRoleNotExist: Errors.rootRoleNotExist,
  userAlreadyExist: Errors.userAlreadyExist,
  userEmpty: Errors.userEmpty,
  userNotFound: Errors.userNotFound,
  roleAlreadyExist: Errors.roleAlreadyExist,
  roleNotFound: Errors.roleNotFound,
  roleEmpty: Errors.roleEmpty,
  authFailed: Errors.authFailed,
  permissionDenied: Errors.permissionDenied,
  roleNotGranted: Errors.roleNotGranted,
  permissionNotGranted: Errors.permissionNotGranted,
  authNotEnabled: Errors.authNotEnabled,
  authOldRevision: Errors.authOldRevision,
  invalidAuthToken: Errors.invalidAuthToken,
  invalidAuthMgmt: Errors.invalidAuthMgmt,
  verifyOnly: unknownAuth,
  invalidKey: unknownAuth,
};

/** Any thrown value as the error a client sees: gRPC status and etcd's message. */
export function toEtcdError(err: unknown): EtcdError {
  if (err instanceof EtcdError) return err;
  if (err instanceof MvccError) return mvccErrors[err.reason]();
  if (err instanceof LeaseError) return leaseErrors[err.reason]();
  if (err instanceof AuthError) return authErrors[err.reason](err);
  return new EtcdError(GrpcCode.Unknown, err instanceof Error ? err.message : String(err));
}
