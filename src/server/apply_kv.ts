// etcd's KV apply semantics (Range, Put, DeleteRange, Txn, Compact) on the mvcc store, and
// the request checks made before proposing. Callers add the response headers' cluster ID,
// member ID and raft term; `header.revision` is set here.
import { Errors } from "../errors/mod.ts";
import { doRange } from "./apply_kv/range.ts";
import { applyTxn, deleteIn, putIn } from "./apply_kv/txn.ts";
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KvApplyContext,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
} from "./apply_kv/types.ts";

export * from "./apply_kv/types.ts";
export {
  validateDeleteRange,
  validatePut,
  validateRange,
  validateTxn,
} from "./apply_kv/validate.ts";
export { applyTxn };

// Reads at the store's current state (`serializable` is the caller's concern: which member
// answers and whether it waits for the read index first).
export function applyRange(ctx: KvApplyContext, req: RangeRequest): RangeResponse {
  return doRange((k, e, o) => ctx.store.range(k, e, o), req);
}

export function applyPut(ctx: KvApplyContext, req: PutRequest): PutResponse {
  const lease = req.lease ?? 0n;
  if (lease !== 0n && !ctx.leases.leaseExists(lease)) throw Errors.leaseNotFound();
  const txn = ctx.store.write();
  try {
    return putIn(ctx, txn, req);
  } finally {
    txn.end();
  }
}

// Deleting nothing does not create a revision; the header then carries the current one.
export function applyDeleteRange(
  ctx: KvApplyContext,
  req: DeleteRangeRequest,
): DeleteRangeResponse {
  const txn = ctx.store.write();
  try {
    return deleteIn(ctx, txn, req);
  } finally {
    txn.end();
  }
}

// Compaction at `revision` (logical at once). `physical` resolves when the superseded
// revisions are gone from the backend: a Compact with `physical: true` answers after it.
export function applyCompaction(
  ctx: KvApplyContext,
  req: CompactionRequest,
): { response: CompactionResponse; physical: Promise<void> } {
  const physical = ctx.store.compact(req.revision);
  return { response: { header: { revision: ctx.store.rev() } }, physical };
}
