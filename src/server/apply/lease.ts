// Applying lease grants, revocations and checkpoints. Revoking deletes the lease's keys in one
// write txn, so watchers see them go at one revision, as etcd's lessor does through its
// RangeDeleter. A checkpoint only records remaining TTLs; it changes no key.
import type { Lessor } from "../../lease/mod.ts";
import type { KvApplyContext } from "../kv_types.ts";
import type { RequestOf, ResponseOf } from "../proposal.ts";
import { deleteIn } from "./txn.ts";

export function applyLeaseGrant(
  lessor: Lessor,
  req: RequestOf<"leaseGrant">,
): ResponseOf<"leaseGrant"> {
  const lease = lessor.grant(req.ID, req.TTL);
  return { ID: lease.ID, TTL: lease.TTL };
}

export function applyLeaseRevoke(
  ctx: KvApplyContext,
  lessor: Lessor,
  req: RequestOf<"leaseRevoke">,
): ResponseOf<"leaseRevoke"> {
  const keys = lessor.revoke(req.ID);
  const txn = ctx.store.write();
  try {
    for (const key of keys) deleteIn(ctx, txn, { key });
  } finally {
    txn.end();
  }
  return { header: { revision: ctx.store.rev() } };
}

export function applyLeaseCheckpoint(
  ctx: KvApplyContext,
  lessor: Lessor,
  req: RequestOf<"leaseCheckpoint">,
): ResponseOf<"leaseCheckpoint"> {
  // etcd skips leases revoked meanwhile; the rest of the batch still applies.
  for (const c of req.checkpoints) lessor.checkpoint(c.ID, c.remainingTTL);
  return { header: { revision: ctx.store.rev() } };
}
