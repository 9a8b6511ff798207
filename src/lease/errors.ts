// The lessor's own errors, with etcd's lease messages. The client API turns them into etcd's
// client-facing errors (src/api/errors.ts); the peer port answers `notPrimary` as etcd's
// leasehttp does.

const MESSAGES = {
  notFound: "lease not found",
  exists: "lease already exists",
  ttlTooLarge: "too large lease TTL",
  notPrimary: "not a primary lessor",
} as const;

export type LeaseErrorReason = keyof typeof MESSAGES;

export class LeaseError extends Error {
  override name = "LeaseError";
  constructor(readonly reason: LeaseErrorReason) {
    super(MESSAGES[reason]);
  }
}
