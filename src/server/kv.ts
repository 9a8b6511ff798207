// The KV operations of one member: reads are served locally after a ReadIndex round (or at
// once when serializable); writes go through Raft and answer with the apply result.
import {
  applyCompaction,
  applyDeleteRange,
  applyPut,
  applyRange,
  applyTxn,
  type CompactionRequest,
  type DeleteRangeRequest,
  type KvApplyContext,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
  validateDeleteRange,
  validatePut,
  validateRange,
  validateTxn,
} from "./apply_kv.ts";
import { deleteIn } from "./apply_kv/txn.ts";
import { AlarmAction, AlarmType } from "./alarms.ts";
import type { ApplyResult } from "./apply.ts";
import { Errors } from "../errors/mod.ts";
import type { InternalRequest, RequestKind } from "./request.ts";
import type { EtcdServer, ServerOptions } from "./server.ts";
import {
  type AuthInfo,
  checkDeleteRange,
  checkPut,
  checkRange,
  checkTxn,
  NO_AUTH,
} from "../auth/mod.ts";
import { leaseKeysOf } from "./auth.ts";

type Limits = Pick<ServerOptions, "maxTxnOps" | "quotaBackendBytes">;

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
  readonly applyContext: KvApplyContext;

  constructor(readonly s: EtcdServer, readonly limits: Limits) {
    const lessor = () => s.state.lessor;
    this.applyContext = {
      get store() {
        return s.backend.store;
      },
      leases: {
        leaseExists: (id) => lessor().lookup(id) !== undefined,
        attachLease: (id, key) => lessor().attach(id, key),
        detachLease: (id, key) => lessor().detach(id, key),
      },
      watchersWantPrevKv: () => s.hub.wantsPrevKv(),
    };
  }

  async range(req: RangeRequest, ai: AuthInfo = NO_AUTH) {
    validateRange(req);
    if (!req.serializable) await this.s.linearizableRead();
    checkRange(this.s.auth, ai, req);
    const res = applyRange(this.applyContext, req);
    return { ...res, header: this.s.header(res.header.revision) };
  }

  put(req: PutRequest, ai: AuthInfo = NO_AUTH) {
    validatePut(req);
    checkPut(this.s.auth, ai, req, leaseKeysOf(this.s));
    this.#checkQuota();
    return this.#write("put", req, ai);
  }

  deleteRange(req: DeleteRangeRequest, ai: AuthInfo = NO_AUTH) {
    validateDeleteRange(req);
    checkDeleteRange(this.s.auth, ai, req);
    return this.#write("deleteRange", req, ai);
  }

  async txn(req: TxnRequest, ai: AuthInfo = NO_AUTH) {
    validateTxn(req, this.limits.maxTxnOps);
    checkTxn(this.s.auth, ai, req, leaseKeysOf(this.s));
    if (isReadOnly(req.success) && isReadOnly(req.failure)) {
      if (!readsSerializably(req.success) || !readsSerializably(req.failure)) {
        await this.s.linearizableRead();
      }
      const res = applyTxn(this.applyContext, req);
      return { ...res, header: this.s.header(res.header.revision) };
    }
    this.#checkQuota();
    return await this.#write("txn", req, ai);
  }

  async compact(req: CompactionRequest) {
    const res = await this.#propose("compaction", req);
    if (req.physical) await res.done;
    return { header: this.s.header(res.response.header.revision) };
  }

  async #write(kind: RequestKind, body: unknown, ai: AuthInfo) {
    const res = await this.#propose(kind, body, ai);
    return { ...res.response, header: this.s.header(res.response.header.revision) };
  }

  async #propose(kind: RequestKind, body: unknown, ai?: AuthInfo): Promise<ApplyResult> {
    const res = await this.s.propose(kind, body, undefined, ai);
    if (res.error) throw res.error;
    return res;
  }

  // etcd refuses writes once NOSPACE is raised; a member that finds its backend over the quota
  // raises the alarm through Raft so every member refuses them.
  #checkQuota(): void {
    const s = this.s;
    if (s.backend.alarms.active(AlarmType.NOSPACE)) throw Errors.noSpace();
    const quota = this.limits.quotaBackendBytes;
    if (quota > 0 && s.backend.store.dbSize() > quota) {
      void s.propose("alarm", {
        action: AlarmAction.ACTIVATE,
        memberID: s.memberId,
        alarm: AlarmType.NOSPACE,
      }).catch(() => {});
      throw Errors.noSpace();
    }
  }
}

/** Applies a committed KV request (or a lease revocation, which deletes its keys). */
export function applyKv(s: EtcdServer, r: InternalRequest): ApplyResult {
  const ctx = s.kv.applyContext;
  switch (r.kind) {
    case "put":
      return { response: applyPut(ctx, r.body) };
    case "deleteRange":
      return { response: applyDeleteRange(ctx, r.body) };
    case "txn":
      return { response: applyTxn(ctx, r.body) };
    case "compaction": {
      const { response, physical } = applyCompaction(ctx, r.body);
      // A caller not waiting for the physical compaction must not see it fail unobserved.
      physical.catch(() => {});
      return { response, done: physical };
    }
    case "leaseRevoke": {
      const keys = s.state.lessor.revoke(r.body.ID);
      const txn = ctx.store.write();
      try {
        for (const key of keys) deleteIn(ctx, txn, { key });
      } finally {
        txn.end();
      }
      return { response: { header: { revision: ctx.store.rev() } } };
    }
    default:
      throw new Error(`not a KV request: ${r.kind}`);
  }
}
