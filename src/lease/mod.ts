// Leases: etcd 3.4's lessor (grant, revoke, keys, renew, expiry on the leader).
export { LeaseError, type LeaseErrorReason } from "./errors.ts";
export { createLessor, FOREVER_TTL_SECONDS, MAX_LEASE_TTL, NO_LEASE } from "./lessor.ts";
export type { LeaseTimeToLive, LeaseView, Lessor, LessorConfig } from "./lessor.ts";
export { LEASE_REVOKE_RATE } from "./expiry.ts";
export type { LeasePersistence } from "./lease_table.ts";
export { minLeaseTTL, newLeaseId } from "./lease_id.ts";
