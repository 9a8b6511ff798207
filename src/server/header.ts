// The header every response carries: which cluster and member answered, at which revision and
// raft term.

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

/** The header at `revision` (the store's current revision when omitted). */
export type HeaderOf = (revision?: number) => ResponseHeader;
