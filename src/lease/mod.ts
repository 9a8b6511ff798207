// Leases: etcd 3.4's lessor (grant, revoke, keys, renew, expiry on the leader).
export { LeaseError, type LeaseErrorReason } from "./errors.ts";
export {
  createLessor,
  FOREVER_TTL_SECONDS,
  LEASE_REVOKE_RATE,
  MAX_LEASE_TTL,
  NO_LEASE,
} from "./lessor.ts";
export type {
  LeasePersistence,
  LeaseTimeToLive,
  LeaseView,
  Lessor,
  LessorConfig,
} from "./lessor.ts";
export { minLeaseTTL, newLeaseId } from "./lease_id.ts";
