// Leases: etcd 3.4's lessor (grant, revoke, keys, renew, expiry on the leader, checkpoints).
export { LeaseError, type LeaseErrorReason } from "./errors.ts";
export { createLessor, FOREVER_TTL_SECONDS, MAX_LEASE_TTL, NO_LEASE } from "./lessor.ts";
export type { LeaseTimeToLive, LeaseView, Lessor, LessorConfig } from "./lessor.ts";
export { LEASE_REVOKE_RATE } from "./expiry.ts";
export { DEFAULT_CHECKPOINT_INTERVAL_MS } from "./checkpoint.ts";
export type { Checkpointer, CheckpointOptions, LeaseCheckpoint } from "./checkpoint.ts";
export type { LeasePersistence } from "./lease_table.ts";
export { minLeaseTTL, newLeaseId } from "./lease_id.ts";
