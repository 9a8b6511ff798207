// The size etcd gives a proposal when it checks --max-request-bytes: the length of the
// InternalRaftRequest it would put in the log (the request in its field, plus a RequestHeader
// with the request ID and, when auth may matter, the user and auth revision). Our entries are
// laid out differently (see proposal.ts), so the size is computed, not measured, and a request
// is refused where etcd refuses it.
import type { AuthRequest } from "../auth/mod.ts";
import { sI64, sv32 } from "../pb/mod.ts";
import type { Proposal, ProposalKind } from "./proposal.ts";

// InternalRaftRequest's field numbers (raft_internal.proto) for the kinds whose request is
// etcd's own message, encoded as such in our entries.
const REQUEST_FIELD: Partial<Record<ProposalKind, number>> = {
  put: 4,
  deleteRange: 5,
  txn: 6,
  compaction: 7,
  leaseGrant: 8,
  leaseRevoke: 9,
  alarm: 10,
  leaseCheckpoint: 11,
};
const HEADER_FIELD = 100;
const utf8 = new TextEncoder();

/** A length-delimited field: its tag, its length and its bytes. */
function fieldSize(field: number, length: number): number {
  return sv32((field << 3) | 2) + sv32(length) + length;
}

// proto3 leaves out empty strings and bytes, and zero numbers.
const text = (field: number, s: string) => s ? fieldSize(field, utf8.encode(s).length) : 0;
const number = (field: number, v: number) => v ? sv32(field << 3) + sI64(v) : 0;
function bytes(field: number, base64: string): number {
  const n = base64.length * 3 / 4 - (base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0);
  return n ? fieldSize(field, n) : 0;
}

/**
 * An auth request as etcd's message in its InternalRaftRequest field. Passwords travel here as
 * their hashes (etcd 3.4 proposes them in clear), and Authenticate without one.
 */
function authField(r: AuthRequest): [field: number, size: number] {
  switch (r.op) {
    case "enable":
      return [1000, 0];
    case "disable":
      return [1011, 0];
    case "authenticate":
      return [1012, text(1, r.name) + text(3, r.simpleToken)];
    case "userAdd":
      // etcdctl always sends the options message, empty unless there is no password.
      return [
        1100,
        text(1, r.name) + text(2, r.hashedPassword) + fieldSize(3, r.noPassword ? 2 : 0),
      ];
    case "userDelete":
      return [1101, text(1, r.name)];
    case "userChangePassword":
      return [1103, text(1, r.name) + text(2, r.hashedPassword)];
    case "userGrantRole":
      return [1104, text(1, r.user) + text(2, r.role)];
    case "userRevokeRole":
      return [1105, text(1, r.name) + text(2, r.role)];
    case "roleAdd":
      return [1200, text(1, r.name)];
    case "roleDelete":
      return [1201, text(1, r.role)];
    case "roleGrantPermission": {
      const perm = number(1, r.permType) + bytes(2, r.key) + bytes(3, r.rangeEnd);
      return [1203, text(1, r.name) + fieldSize(2, perm)];
    }
    case "roleRevokePermission":
      return [1204, text(1, r.role) + bytes(2, r.key) + bytes(3, r.rangeEnd)];
  }
}

/**
 * The InternalRaftRequest size of `p`, whose request encodes to `payloadBytes`; undefined for
 * the kinds etcd proposes outside that check (its v2 requests and the member's own publish and
 * cluster version, which etcd 3.4 sends as v2 requests).
 */
export function internalRaftRequestSize(p: Proposal, payloadBytes: number): number | undefined {
  const [field, size] = p.kind === "auth"
    ? authField(p.request)
    : [REQUEST_FIELD[p.kind], payloadBytes];
  if (field === undefined) return undefined;
  let header = 1 + sI64(p.id); // RequestHeader.ID
  if (p.auth?.username) header += fieldSize(2, utf8.encode(p.auth.username).length);
  if (p.auth?.revision) header += 1 + sI64(p.auth.revision);
  return fieldSize(HEADER_FIELD, header) + fieldSize(field, size);
}
