// The recorded history of a run: what each client asked etcd, when, and what it was told.
// Shapes follow etcd's v3 API (etcdserverpb, mvccpb) reduced to what the model checks.

/** mvccpb.KeyValue. `lease` is 0 when the key has none. */
export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
  lease: number;
}

/**
 * RangeRequest. `rangeEnd` absent: the single key; "\0": every key from `key` on; otherwise
 * [key, rangeEnd). `revision` absent or 0: the latest. A serializable read may be served by
 * a member that lags: it is checked against the store at the revision it answered for, not
 * linearized (as etcd's robustness suite does).
 */
export interface RangeRequest {
  type: "range";
  key: string;
  rangeEnd?: string;
  revision?: number;
  serializable?: boolean;
  limit?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
}

export interface PutRequest {
  type: "put";
  key: string;
  value: string;
  lease?: number;
  prevKv?: boolean;
}

export interface DeleteRangeRequest {
  type: "deleteRange";
  key: string;
  rangeEnd?: string;
  prevKv?: boolean;
}

/** Compare on one key; a missing key compares as version/create/mod/lease 0 and fails on value. */
export interface Compare {
  key: string;
  target: "value" | "version" | "create" | "mod" | "lease";
  result: "equal" | "not_equal" | "greater" | "less";
  value: string | number;
}

export type RequestOp = RangeRequest | PutRequest | DeleteRangeRequest;

/** Nested transactions are not modelled. */
export interface TxnRequest {
  type: "txn";
  compare: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

/** `id` 0 lets the server choose; the response then names the lease. */
export interface LeaseGrantRequest {
  type: "leaseGrant";
  id: number;
  ttl: number;
}

export interface LeaseRevokeRequest {
  type: "leaseRevoke";
  id: number;
}

export type Request = RequestOp | TxnRequest | LeaseGrantRequest | LeaseRevokeRequest;

export interface RangeResult {
  type: "range";
  kvs: KeyValue[];
  count: number;
  more: boolean;
}

/** `prevKv` is checked only when the request asked for it; absent means no previous key. */
export interface PutResult {
  type: "put";
  prevKv?: KeyValue;
}

export interface DeleteRangeResult {
  type: "deleteRange";
  deleted: number;
  prevKvs?: KeyValue[];
}

export type ResultOp = RangeResult | PutResult | DeleteRangeResult;

export interface TxnResult {
  type: "txn";
  succeeded: boolean;
  responses: ResultOp[];
}

export interface LeaseGrantResult {
  type: "leaseGrant";
  id: number;
}

export interface LeaseRevokeResult {
  type: "leaseRevoke";
}

export type Result = ResultOp | TxnResult | LeaseGrantResult | LeaseRevokeResult;

/** etcd's messages for refusals that prove the request changed nothing. */
export const ErrLeaseNotFound = "etcdserver: requested lease not found";
export const ErrLeaseExist = "etcdserver: lease already exists";
export const ErrFutureRev = "etcdserver: mvcc: required revision is a future revision";
export const ErrDuplicateKey = "etcdserver: duplicate key given in txn request";
export type DefiniteError =
  | typeof ErrLeaseNotFound
  | typeof ErrLeaseExist
  | typeof ErrFutureRev
  | typeof ErrDuplicateKey;

/**
 * What the client learnt. "unknown" (timeout, broken connection, any error that does not
 * prove the request was refused): the request may have taken effect at any point after its
 * call, or never. `persisted` says it is known to have taken effect (found in the log or a
 * watch), `revision` the revision it created, when known.
 */
export type Outcome =
  | { status: "ok"; revision: number; result: Result }
  | { status: "error"; error: DefiniteError }
  | { status: "unknown"; persisted?: boolean; revision?: number };

/**
 * One request of one client. Times are monotonic numbers on one clock; `return` is absent
 * exactly when the outcome is unknown. Operations touching at an instant count as concurrent.
 */
export interface Operation {
  client: number;
  call: number;
  return?: number;
  request: Request;
  outcome: Outcome;
}

/** The store before the first operation; etcd's suite starts from an empty one (revision 1). */
export interface InitialState {
  revision: number;
  kvs: KeyValue[];
  leases: number[];
}

/** mvccpb.Event. A DELETE's kv carries the key and the deletion revision only. */
export interface Event {
  type: "PUT" | "DELETE";
  kv: KeyValue;
  prevKv?: KeyValue;
}

export interface WatchRequest {
  key: string;
  rangeEnd?: string;
  /** 0 or absent: from the revision after the one the creation response reports. */
  startRevision?: number;
  prevKv?: boolean;
  filters?: ("NOPUT" | "NODELETE")[];
}

/** One WatchResponse as received; `progressNotify` marks a progress notification. */
export interface WatchResponse {
  revision: number;
  events: Event[];
  progressNotify?: boolean;
  canceled?: boolean;
  compactRevision?: number;
}

/** One watch as one client saw it; `createdRevision` is the creation response's header. */
export interface WatchRecord {
  client: number;
  request: WatchRequest;
  createdRevision?: number;
  responses: WatchResponse[];
}
