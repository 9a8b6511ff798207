// What a raft entry carries: one client or internal request, tagged with the proposing member's
// request ID so the proposer can hand the apply result back to the waiting caller.
// Layout: [kind: u8][request id: u64 BE][payload]. Client requests keep their protobuf encoding;
// the rare internal requests are JSON.
import { messages } from "../api/proto/mod.ts";

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
export type RequestKind = ProtoKind | "clusterVersionSet" | "memberAttrSet" | "v2";

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
];

// deno-lint-ignore no-explicit-any
export type RequestBody = any;

export interface InternalRequest {
  kind: RequestKind;
  /** The proposer's request ID; 0 when nobody waits for the result. */
  id: bigint;
  body: RequestBody;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

function isProtoKind(kind: RequestKind): kind is ProtoKind {
  return kind in protoKinds;
}

export function encodeRequest(r: InternalRequest): Uint8Array {
  const payload = isProtoKind(r.kind)
    ? messages[protoKinds[r.kind]].encode(r.body)
    : utf8.encode(JSON.stringify(r.body, (_k, v) => typeof v === "bigint" ? v.toString(16) : v));
  const out = new Uint8Array(9 + payload.length);
  out[0] = kindCodes.indexOf(r.kind);
  new DataView(out.buffer).setBigUint64(1, r.id);
  out.set(payload, 9);
  return out;
}

export function decodeRequest(data: Uint8Array): InternalRequest {
  const kind = kindCodes[data[0]];
  if (kind === undefined) throw new Error(`unknown request kind ${data[0]} in raft entry`);
  const id = new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(1);
  const payload = data.subarray(9);
  if (isProtoKind(kind)) return { kind, id, body: messages[protoKinds[kind]].decode(payload) };
  const body = JSON.parse(fromUtf8.decode(payload));
  if (kind === "memberAttrSet") body.memberId = BigInt("0x" + body.memberId);
  return { kind, id, body };
}
