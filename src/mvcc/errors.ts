// The key space's own errors, with etcd's mvcc messages. The client API turns them into etcd's
// client-facing errors (src/api/errors.ts); nothing here knows of gRPC.

const MESSAGES = {
  compacted: "mvcc: required revision has been compacted",
  futureRev: "mvcc: required revision is a future revision",
} as const;

export type MvccErrorReason = keyof typeof MESSAGES;

export class MvccError extends Error {
  override name = "MvccError";
  constructor(readonly reason: MvccErrorReason) {
    super(MESSAGES[reason]);
  }
}
