// etcdserverpb KV messages as plain objects (contracts.md naming). Request fields are optional
// so that decoded messages (every field present) and hand-built ones both fit. Responses carry
// `header: { revision }` only; the server fills in cluster/member IDs and the raft term of the
// top-level header. Nested txn responses keep the bare `{ revision }` header, as etcd sends it.
import type { KeyValue, MvccStore } from "../mvcc/mod.ts";

// The wire enums, so decoded requests fit these types as they are.
export {
  Compare_CompareResult as CompareResult,
  Compare_CompareTarget as CompareTarget,
  RangeRequest_SortOrder as SortOrder,
  RangeRequest_SortTarget as SortTarget,
} from "../pb/mod.ts";
import type {
  Compare_CompareResult as CompareResult,
  Compare_CompareTarget as CompareTarget,
  RangeRequest_SortOrder as SortOrder,
  RangeRequest_SortTarget as SortTarget,
} from "../pb/mod.ts";

export interface RevisionHeader {
  revision: number;
}

export interface RangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  limit?: number;
  revision?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeResponse {
  header: RevisionHeader;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutRequest {
  key: Uint8Array;
  value?: Uint8Array;
  lease?: bigint;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface PutResponse {
  header: RevisionHeader;
  prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  prevKv?: boolean;
}

export interface DeleteRangeResponse {
  header: RevisionHeader;
  deleted: number;
  prevKvs: KeyValue[];
}

// The target_union oneof is flattened: the member matching `target` is read, a missing one
// counts as its zero value (as etcd does).
export interface Compare {
  result?: CompareResult;
  target?: CompareTarget;
  key: Uint8Array;
  version?: number;
  createRevision?: number;
  modRevision?: number;
  value?: Uint8Array;
  lease?: bigint;
  rangeEnd?: Uint8Array;
}

export interface RequestOp {
  requestRange?: RangeRequest;
  requestPut?: PutRequest;
  requestDeleteRange?: DeleteRangeRequest;
  requestTxn?: TxnRequest;
}

export interface ResponseOp {
  responseRange?: RangeResponse;
  responsePut?: PutResponse;
  responseDeleteRange?: DeleteRangeResponse;
  responseTxn?: TxnResponse;
}

export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResponse {
  header: RevisionHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision: number;
  physical?: boolean;
}

export interface CompactionResponse {
  header: RevisionHeader;
}

// Leases belong to the lessor; the apply layer only checks and records key attachments.
export interface KvLeases {
  leaseExists(id: bigint): boolean;
  attachLease(id: bigint, key: Uint8Array): void;
  detachLease(id: bigint, key: Uint8Array): void;
}

export interface KvApplyContext {
  store: MvccStore;
  leases: KvLeases;
  /** Whether some watcher wants prev_kv: only then do puts read the values they replace. */
  watchersWantPrevKv(): boolean;
}
