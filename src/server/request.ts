// What a raft entry carries: one client or internal request, tagged with the proposing member's
// request ID so the proposer can hand the apply result back to the waiting caller.
// Layout: [kind: u8][request id: u64 BE][payload]. Client requests keep their protobuf encoding;
// the rare internal requests are JSON. A client request sent while auth may matter also carries
// who sent it (etcd's RequestHeader username/auth_revision): the kind byte then has its high bit
// set and [auth revision: u64 BE][username length: u32 BE][username] follows the request ID.
import { messages } from "../pb/mod.ts";
import type { AuthInfo } from "../auth/mod.ts";

const protoKinds = {
  put: "etcdserverpb.PutRequest",
  deleteRange: "etcdserverpb.DeleteRangeRequest",
  txn: "etcdserverpb.TxnRequest",
  compaction: "etcdserverpb.CompactionRequest",
  leaseGrant: "etcdserverpb.LeaseGrantRequest",
  leaseRevoke: "etcdserverpb.LeaseRevokeRequest",
  alarm: "etcdserverpb.AlarmRequest",
} as const;

/** Internal requests: the cluster version, a member publishing its attributes. */
export interface ClusterVersionSet {
  version: string;
}
export interface MemberAttrSet {
  memberId: bigint;
  name: string;
  clientURLs: string[];
}

export type ProtoKind = keyof typeof protoKinds;
export type RequestKind = ProtoKind | "clusterVersionSet" | "memberAttrSet" | "v2" | "auth";

// Codes are persisted in the log: append new kinds, never renumber.
const kindCodes: RequestKind[] = [
  "put",
  "deleteRange",
  "txn",
  "compaction",
  "leaseGrant",
  "leaseRevoke",
  "alarm",
  "clusterVersionSet",
  "memberAttrSet",
  "v2",
  "auth",
];
const AUTH_FLAG = 0x80;

// deno-lint-ignore no-explicit-any
export type RequestBody = any;

export interface InternalRequest {
  kind: RequestKind;
  /** The proposer's request ID; 0 when nobody waits for the result. */
  id: bigint;
  body: RequestBody;
  /** The client's identity; absent on the member's own proposals. */
  auth?: AuthInfo;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function isProtoKind(kind: RequestKind): kind is ProtoKind {
  return kind in protoKinds;
}

const kindCode = new Map(kindCodes.map((kind, code) => [kind, code]));
const EMPTY = new Uint8Array();

export function encodeRequest(r: InternalRequest): Uint8Array {
  const payload = isProtoKind(r.kind)
    ? messages[protoKinds[r.kind]].encode(r.body)
    : utf8.encode(JSON.stringify(r.body, (_k, v) => typeof v === "bigint" ? v.toString(16) : v));
  // Auth off, every request carries the empty identity: skip the encoder for it.
  const user = r.auth ? (r.auth.username ? utf8.encode(r.auth.username) : EMPTY) : undefined;
  const head = user ? 21 + user.length : 9;
  const out = new Uint8Array(head + payload.length);
  const view = new DataView(out.buffer);
  out[0] = kindCode.get(r.kind)! | (user ? AUTH_FLAG : 0);
  view.setBigUint64(1, r.id);
  if (user) {
    view.setBigUint64(9, BigInt(r.auth!.revision));
    view.setUint32(17, user.length);
    out.set(user, 21);
  }
  out.set(payload, head);
  return out;
}

/** The proposer's request ID in an encoded request. */
export function requestIdOf(data: Uint8Array): bigint {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(1);
}

/** Kinds whose proposer may apply its own request object instead of decoding the entry: their
 * bodies are decoded client messages of bytes and numbers, so they survive the round trip
 * through the log unchanged (JSON kinds do not: bigints become strings). */
export function appliesAsProposed(kind: RequestKind): boolean {
  return kind === "put" || kind === "deleteRange" || kind === "txn";
}

export function decodeRequest(data: Uint8Array): InternalRequest {
  const kind = kindCodes[data[0] & ~AUTH_FLAG];
  if (kind === undefined) throw new Error(`unknown request kind ${data[0]} in raft entry`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const id = view.getBigUint64(1);
  let auth: AuthInfo | undefined;
  let head = 9;
  if (data[0] & AUTH_FLAG) {
    head = 21 + view.getUint32(17);
    auth = {
      revision: Number(view.getBigUint64(9)),
      username: fromUtf8.decode(data.subarray(21, head)),
    };
  }
  const payload = data.subarray(head);
  const body = isProtoKind(kind)
    ? messages[protoKinds[kind]].decode(payload)
    : JSON.parse(fromUtf8.decode(payload));
  if (kind === "memberAttrSet") body.memberId = BigInt("0x" + body.memberId);
  return auth ? { kind, id, body, auth } : { kind, id, body };
}
