// etcd's client-facing errors: a gRPC status code and the exact message etcdctl prints.
// Every layer throws these; the transports turn them into gRPC trailers or gateway JSON.

export enum GrpcCode {
  OK = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

/** Go's codes.Code.String(): the code's name, `Code(n)` for numbers outside the table. */
export function grpcCodeName(code: number): string {
  return GrpcCode[code] ?? `Code(${code})`;
}

export class EtcdError extends Error {
  constructor(readonly code: GrpcCode, message: string) {
    super(message);
    this.name = "EtcdError";
  }
}

const e = (code: GrpcCode, message: string) => new EtcdError(code, message);

// Named after etcd's rpctypes; each call makes a fresh error so stacks point at the thrower.
export const Errors = {
  emptyKey: () => e(GrpcCode.InvalidArgument, "etcdserver: key is not provided"),
  keyNotFound: () => e(GrpcCode.InvalidArgument, "etcdserver: key not found"),
  valueProvided: () => e(GrpcCode.InvalidArgument, "etcdserver: value is provided"),
  leaseProvided: () => e(GrpcCode.InvalidArgument, "etcdserver: lease is provided"),
  tooManyOps: () => e(GrpcCode.InvalidArgument, "etcdserver: too many operations in txn request"),
  duplicateKey: () => e(GrpcCode.InvalidArgument, "etcdserver: duplicate key given in txn request"),
  compacted: () => e(GrpcCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"),
  futureRev: () =>
    e(GrpcCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision"),
  noSpace: () => e(GrpcCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded"),
  requestTooLarge: () => e(GrpcCode.InvalidArgument, "etcdserver: request is too large"),
  tooManyRequests: () => e(GrpcCode.ResourceExhausted, "etcdserver: too many requests"),
  leaseNotFound: () => e(GrpcCode.NotFound, "etcdserver: requested lease not found"),
  leaseExist: () => e(GrpcCode.FailedPrecondition, "etcdserver: lease already exists"),
  leaseTTLTooLarge: () => e(GrpcCode.OutOfRange, "etcdserver: too large lease TTL"),
  memberExist: () => e(GrpcCode.FailedPrecondition, "etcdserver: member ID already exist"),
  peerURLExist: () => e(GrpcCode.FailedPrecondition, "etcdserver: Peer URLs already exists"),
  memberBadURLs: () => e(GrpcCode.InvalidArgument, "etcdserver: given member URLs are invalid"),
  memberNotFound: () => e(GrpcCode.NotFound, "etcdserver: member not found"),
  memberNotLearner: () =>
    e(GrpcCode.FailedPrecondition, "etcdserver: can only promote a learner member"),
  learnerNotReady: () =>
    e(
      GrpcCode.FailedPrecondition,
      "etcdserver: can only promote a learner member which is in sync with leader",
    ),
  tooManyLearners: () =>
    e(GrpcCode.FailedPrecondition, "etcdserver: too many learner members in cluster"),
  unhealthyCluster: () => e(GrpcCode.Unavailable, "etcdserver: unhealthy cluster"),
  notEnoughStartedMembers: () =>
    e(
      GrpcCode.FailedPrecondition,
      "etcdserver: re-configuration failed due to not enough started members",
    ),
  noLeader: () => e(GrpcCode.Unavailable, "etcdserver: no leader"),
  notLeader: () => e(GrpcCode.FailedPrecondition, "etcdserver: not leader"),
  leaderChanged: () => e(GrpcCode.Unavailable, "etcdserver: leader changed"),
  timeout: () => e(GrpcCode.Unavailable, "etcdserver: request timed out"),
  timeoutDueToLeaderFail: () =>
    e(
      GrpcCode.Unavailable,
      "etcdserver: request timed out, possibly due to previous leader failure",
    ),
  timeoutWaitAppliedIndex: () =>
    e(
      GrpcCode.Unavailable,
      "etcdserver: request timed out, waiting for the applied index took too long",
    ),
  stopped: () => e(GrpcCode.Unavailable, "etcdserver: server stopped"),
  notCapable: () => e(GrpcCode.Unavailable, "etcdserver: not capable"),
  learnerNotSupported: () => e(GrpcCode.Unavailable, "etcdserver: rpc not supported for learner"),
  badLeaderTransferee: () => e(GrpcCode.FailedPrecondition, "etcdserver: bad leader transferee"),
  corrupt: () => e(GrpcCode.DataLoss, "etcdserver: corrupt cluster"),
  permissionDenied: () => e(GrpcCode.PermissionDenied, "etcdserver: permission denied"),
  authNotEnabled: () => e(GrpcCode.FailedPrecondition, "etcdserver: authentication is not enabled"),
  rootUserNotExist: () => e(GrpcCode.FailedPrecondition, "etcdserver: root user does not exist"),
  rootRoleNotExist: () =>
    e(GrpcCode.FailedPrecondition, "etcdserver: root user does not have root role"),
  userAlreadyExist: () => e(GrpcCode.FailedPrecondition, "etcdserver: user name already exists"),
  userEmpty: () => e(GrpcCode.InvalidArgument, "etcdserver: user name is empty"),
  userNotFound: () => e(GrpcCode.FailedPrecondition, "etcdserver: user name not found"),
  roleAlreadyExist: () => e(GrpcCode.FailedPrecondition, "etcdserver: role name already exists"),
  roleNotFound: () => e(GrpcCode.FailedPrecondition, "etcdserver: role name not found"),
  roleEmpty: () => e(GrpcCode.InvalidArgument, "etcdserver: role name is empty"),
  authFailed: () =>
    e(GrpcCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password"),
  roleNotGranted: () =>
    e(GrpcCode.FailedPrecondition, "etcdserver: role is not granted to the user"),
  permissionNotGranted: () =>
    e(GrpcCode.FailedPrecondition, "etcdserver: permission is not granted to the role"),
  invalidAuthToken: () => e(GrpcCode.Unauthenticated, "etcdserver: invalid auth token"),
  invalidAuthMgmt: () => e(GrpcCode.InvalidArgument, "etcdserver: invalid auth management"),
  authOldRevision: () => e(GrpcCode.InvalidArgument, "etcdserver: revision of auth store is old"),
  watchCanceled: () => e(GrpcCode.Canceled, "etcdserver: watch canceled"),
};
