// Applying the KV kinds (etcd's applierV3 Put, DeleteRange, Compaction) to the mvcc store, and
// Range, which reads share with the txn apply. Callers add the response headers' cluster ID,
// member ID and raft term; `header.revision` is set here. Txn is in txn.ts.
import { LeaseError } from "../../lease/mod.ts";
import { countRange } from "../../metrics/mod.ts";
import { doRange } from "./range.ts";
import { deleteIn, putIn } from "./txn.ts";
import type {
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KvApplyContext,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
} from "../kv_types.ts";
import type { ResponseOf } from "../proposal.ts";
import type { Logger } from "../../log/mod.ts";

// Reads at the store's current state (`serializable` is the caller's concern: which member
// answers and whether it waits for the read index first).
export function applyRange(ctx: KvApplyContext, req: RangeRequest): RangeResponse {
  return doRange((k, e, o) => ctx.store.range(k, e, o), req);
}

export function applyPut(ctx: KvApplyContext, req: PutRequest): PutResponse {
  const lease = req.lease ?? 0n;
  if (lease !== 0n && !ctx.leases.leaseExists(lease)) throw new LeaseError("notFound");
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

// Compaction at `revision` is logical at once; `physical` resolves when the superseded
// revisions are gone from the backend: a Compact with `physical: true` answers after it.
export function applyCompaction(
  ctx: KvApplyContext,
  req: CompactionRequest,
  log?: Logger,
): ResponseOf<"compaction"> {
  const physical = ctx.store.compact(req.revision);
  // etcd's key index says so when it has compacted (mvcc/index.go).
  log?.info({
    pkg: "mvcc",
    text: `store.index: compact ${req.revision}`,
    msg: "compact tree index",
    fields: { revision: req.revision },
  });
  // A caller not waiting for the physical compaction must not see it fail unobserved.
  physical.catch(() => {});
  countRange(); // etcd reads the revision back with a range, which its counters see
  return { header: { revision: ctx.store.rev() }, physical };
}
