// The size etcd gives a proposal when it checks --max-request-bytes: the length of the
// InternalRaftRequest it would put in the log (the request in its field, plus a RequestHeader
// with the request ID and, when auth may matter, the user and auth revision). Our entries are
// laid out differently (see proposal.ts), so the size is computed, not measured, and a request
// is refused where etcd refuses it.
import { sI64, sv32 } from "../pb/mod.ts";
import type { Proposal, ProposalKind } from "./proposal.ts";

// InternalRaftRequest's field numbers (raft_internal.proto).
const REQUEST_FIELD: Partial<Record<ProposalKind, number>> = {
  put: 4,
  deleteRange: 5,
  txn: 6,
  compaction: 7,
  leaseGrant: 8,
  leaseRevoke: 9,
  alarm: 10,
  // Every auth request has its own field from 1000 up; all take a two-byte tag.
  auth: 1000,
};
const HEADER_FIELD = 100;
const utf8 = new TextEncoder();

/** A length-delimited field: its tag, its length and its bytes. */
function fieldSize(field: number, length: number): number {
  return sv32((field << 3) | 2) + sv32(length) + length;
}

/**
 * The InternalRaftRequest size of `p`, whose request encodes to `payloadBytes`; undefined for
 * the kinds etcd proposes outside that check (its v2 requests and the member's own publish and
 * cluster version, which etcd 3.4 sends as v2 requests).
 */
export function internalRaftRequestSize(p: Proposal, payloadBytes: number): number | undefined {
  const field = REQUEST_FIELD[p.kind];
  if (field === undefined) return undefined;
  let header = 1 + sI64(p.id); // RequestHeader.ID
  if (p.auth?.username) header += fieldSize(2, utf8.encode(p.auth.username).length);
  if (p.auth?.revision) header += 1 + sI64(p.auth.revision);
  return fieldSize(HEADER_FIELD, header) + fieldSize(field, payloadBytes);
}
