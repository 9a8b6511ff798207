// Checking library for fault runs: a linearizability checker for etcd's KV model and the
// watch and lease guarantees of etcd's robustness suite.

export type {
  Compare,
  DefiniteError,
  DeleteRangeRequest,
  DeleteRangeResult,
  Event,
  InitialState,
  KeyValue,
  LeaseGrantRequest,
  LeaseGrantResult,
  LeaseRevokeRequest,
  LeaseRevokeResult,
  Operation,
  Outcome,
  PutRequest,
  PutResult,
  RangeRequest,
  RangeResult,
  Request,
  RequestOp,
  Result,
  ResultOp,
  TxnRequest,
  TxnResult,
  WatchRecord,
  WatchRequest,
  WatchResponse,
} from "./types.ts";
export { ErrDuplicateKey, ErrFutureRev, ErrLeaseExist, ErrLeaseNotFound } from "./types.ts";
export { checkHistory, type CheckOptions, type CheckResult } from "./check.ts";
export { checkWatches, type Guarantee, type WatchViolation } from "./watch.ts";
export { checkLeaseKeysGone, type MemberRead } from "./lease.ts";
export { inRange, prefixEnd } from "./keys.ts";
export { describeOutcome, describeRequest } from "./explain.ts";
