// Checking library for fault runs, after etcd's robustness suite: a linearizability checker
// for etcd's KV model, and the watch and lease guarantees.
//
// A run records every client request as an Operation (times from one monotonic clock; an
// unknown outcome for a timeout or broken connection) and every watch as a WatchRecord, then:
//   const kv = checkHistory(operations, { observed: all events the watches received });
//   const watch = checkWatches(watches, kv.events);
//   const lease = checkLeaseKeysGone(endedLeases, finalReadsOfEachMember);
// and fails on !kv.ok (its violations say why), any watch violation, any lease one.
// run/ records such runs from real etcd-ts processes under faults (deno task robustness, soak).

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
export { checkWatches, describeEvent, type Guarantee, type WatchViolation } from "./watch.ts";
export { checkLeaseKeysGone, type MemberRead } from "./lease.ts";
export { inRange, prefixEnd } from "./keys.ts";
export { describeOutcome, describeRequest } from "./explain.ts";
