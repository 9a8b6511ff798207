// The KV operations of one member: reads are served locally after a ReadIndex round (or at
// once when serializable); writes go through Raft and answer with the apply result.
import { Errors } from "../errors/mod.ts";
import {
  type AuthInfo,
  type AuthStore,
  checkDeleteRange,
  checkPut,
  checkRange,
  checkTxn,
  NO_AUTH,
} from "../auth/mod.ts";
import type { Lessor } from "../lease/mod.ts";
import { AlarmAction, AlarmType } from "./alarms.ts";
import { applyRange, applyTxn, leaseKeysOf } from "./apply/mod.ts";
import type { Backend } from "./backend.ts";
import type { HeaderOf } from "./header.ts";
import type {
  CompactionRequest,
  DeleteRangeRequest,
  KvApplyContext,
  PutRequest,
  RangeRequest,
  RangeResponse,
  RequestOp,
  TxnRequest,
  TxnResponse,
} from "./kv_types.ts";
import { validateDeleteRange, validatePut, validateRange, validateTxn } from "./kv_validate.ts";
import type { Propose } from "./proposer.ts";
import type { ReadBarrier } from "./reads.ts";

export interface KvLimits {
  maxTxnOps: number;
  /** Backend size that raises the NOSPACE alarm; 0 or less disables the quota. */
  quotaBackendBytes: number;
}

export interface KvApiDeps {
  proposer: Propose;
  reads: ReadBarrier;
  header: HeaderOf;
  memberId: bigint;
  backend: Backend;
  /** What serializable reads and read-only txns run against, as the apply path does. */
  kv: KvApplyContext;
  auth: AuthStore;
  lessor: Lessor;
  limits: KvLimits;
  /** etcd's warnings about slow reads served here. */
  slowReads: SlowReads;
}

/** Told how long a read took, from its start to its answer (or error). */
export interface SlowReads {
  range(req: RangeRequest, res: RangeResponse | undefined, err: unknown, tookMs: number): void;
  readOnlyTxn(req: TxnRequest, res: TxnResponse | undefined, err: unknown, tookMs: number): void;
}

/** A txn that only reads can be answered without going through the log. */
function isReadOnly(ops: RequestOp[] | undefined): boolean {
  return (ops ?? []).every((op) =>
    op.requestRange !== undefined ||
    (op.requestTxn !== undefined && isReadOnly(op.requestTxn.success) &&
      isReadOnly(op.requestTxn.failure))
  );
}

function readsSerializably(ops: RequestOp[] | undefined): boolean {
  return (ops ?? []).every((op) =>
    op.requestRange
      ? op.requestRange.serializable === true
      : op.requestTxn
      ? readsSerializably(op.requestTxn.success) && readsSerializably(op.requestTxn.failure)
      : true
  );
}

export class KvApi {
  constructor(readonly deps: KvApiDeps) {}

  async range(req: RangeRequest, ai: AuthInfo = NO_AUTH) {
    const { reads, auth, kv, header, slowReads } = this.deps;
    validateRange(req);
    // As etcd, the time includes waiting for the read index.
    const start = performance.now();
    let res: RangeResponse | undefined;
    let err: unknown;
    try {
      if (!req.serializable) await reads.linearizableRead();
      checkRange(auth, ai, req);
      res = applyRange(kv, req);
      return { ...res, header: header(res.header.revision) };
    } catch (e) {
      throw err = e;
    } finally {
      slowReads.range(req, res, err, performance.now() - start);
    }
  }

  async put(req: PutRequest, ai: AuthInfo = NO_AUTH) {
    validatePut(req);
    checkPut(this.deps.auth, ai, req, leaseKeysOf(this.deps.lessor));
    this.#checkQuota();
    const res = await this.deps.proposer.propose("put", req, { auth: ai });
    return { ...res, header: this.deps.header(res.header.revision) };
  }

  async deleteRange(req: DeleteRangeRequest, ai: AuthInfo = NO_AUTH) {
    validateDeleteRange(req);
    checkDeleteRange(this.deps.auth, ai, req);
    const res = await this.deps.proposer.propose("deleteRange", req, { auth: ai });
    return { ...res, header: this.deps.header(res.header.revision) };
  }

  async txn(req: TxnRequest, ai: AuthInfo = NO_AUTH) {
    const { auth, lessor, limits, reads, kv, header, proposer } = this.deps;
    validateTxn(req, limits.maxTxnOps);
    checkTxn(auth, ai, req, leaseKeysOf(lessor));
    if (isReadOnly(req.success) && isReadOnly(req.failure)) {
      if (!readsSerializably(req.success) || !readsSerializably(req.failure)) {
        await reads.linearizableRead();
      }
      const start = performance.now();
      let res: TxnResponse | undefined;
      let err: unknown;
      try {
        res = applyTxn(kv, req);
        return { ...res, header: header(res.header.revision) };
      } catch (e) {
        throw err = e;
      } finally {
        this.deps.slowReads.readOnlyTxn(req, res, err, performance.now() - start);
      }
    }
    this.#checkQuota();
    const res = await proposer.propose("txn", req, { auth: ai });
    return { ...res, header: header(res.header.revision) };
  }

  async compact(req: CompactionRequest) {
    const res = await this.deps.proposer.propose("compaction", req);
    if (req.physical) await res.physical;
    return { header: this.deps.header(res.header.revision) };
  }

  // etcd refuses writes once NOSPACE is raised; a member that finds its backend over the quota
  // raises the alarm through Raft so every member refuses them.
  #checkQuota(): void {
    const { backend, limits, proposer, memberId } = this.deps;
    if (backend.alarms.active(AlarmType.NOSPACE)) throw Errors.noSpace();
    const quota = limits.quotaBackendBytes;
    if (quota > 0 && backend.store.dbSize() > quota) {
      void proposer.propose("alarm", {
        action: AlarmAction.ACTIVATE,
        memberID: memberId,
        alarm: AlarmType.NOSPACE,
      }).catch(() => {});
      throw Errors.noSpace();
    }
  }
}
