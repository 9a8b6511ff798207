// What a raft entry carries: one proposal — a client or internal request of one kind, tagged
// with the proposing member's request ID so the proposer can hand the apply result back to the
// waiting caller. `Proposals` ties each kind to its request and its apply result; the proposer,
// the entry codec and the apply dispatcher are all typed by it.
//
// Layout: [kind: u8][request id: u64 BE][payload]. Client requests keep their protobuf encoding;
// the rare internal requests are JSON. A client request sent while auth may matter also carries
// who sent it (etcd's RequestHeader username/auth_revision): the kind byte then has its high bit
// set and [auth revision: u64 BE][username length: u32 BE][username] follows the request ID.
import {
  type AlarmMember,
  type AlarmRequest,
  type LeaseCheckpointRequest,
  messages,
} from "../pb/mod.ts";
import type { AuthApplyResult, AuthInfo, AuthRequest } from "../auth/mod.ts";
import type { V2Request, V2Result } from "../v2store/mod.ts";
import type {
  CompactionRequest,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RevisionHeader,
  TxnRequest,
  TxnResponse,
} from "./kv_types.ts";

/** Internal requests: the cluster version, a member publishing its attributes. */
export interface ClusterVersionSet {
  version: string;
}
export interface MemberAttrSet {
  memberId: bigint;
  name: string;
  clientURLs: string[];
}

/** Each kind's request and what applying it answers. */
export interface Proposals {
  put: { request: PutRequest; response: PutResponse };
  deleteRange: { request: DeleteRangeRequest; response: DeleteRangeResponse };
  txn: { request: TxnRequest; response: TxnResponse };
  /** `physical` settles when the superseded revisions are gone from the backend. */
  compaction: {
    request: CompactionRequest;
    response: { header: RevisionHeader; physical: Promise<void> };
  };
  leaseGrant: { request: { ID: bigint; TTL: number }; response: { ID: bigint; TTL: number } };
  /** Revoking deletes the lease's keys: the header carries the revision after them. */
  leaseRevoke: { request: { ID: bigint }; response: { header: RevisionHeader } };
  alarm: { request: AlarmRequest; response: { alarms: AlarmMember[] } };
  clusterVersionSet: { request: ClusterVersionSet; response: void };
  memberAttrSet: { request: MemberAttrSet; response: void };
  v2: { request: V2Request; response: V2Result };
  auth: { request: AuthRequest; response: AuthApplyResult };
  /** The leader's record of leases' remaining TTLs (etcd's LeaseCheckpointRequest). */
  leaseCheckpoint: { request: LeaseCheckpointRequest; response: { header: RevisionHeader } };
}

export type ProposalKind = keyof Proposals;
export type RequestOf<K extends ProposalKind> = Proposals[K]["request"];
export type ResponseOf<K extends ProposalKind> = Proposals[K]["response"];

/** One proposal of kind K; `Proposal` alone is the union over every kind. */
export type Proposal<K extends ProposalKind = ProposalKind> = K extends ProposalKind ? {
    kind: K;
    /** The proposer's request ID; 0 when nobody waits for the result. */
    id: bigint;
    request: RequestOf<K>;
    /** The client's identity; absent on the member's own proposals. */
    auth?: AuthInfo;
  }
  : never;

// The kinds whose requests are etcd's protobuf messages, and their codecs.
type ProtoKind =
  | "put"
  | "deleteRange"
  | "txn"
  | "compaction"
  | "leaseGrant"
  | "leaseRevoke"
  | "alarm"
  | "leaseCheckpoint";
interface RequestCodec<T> {
  encode(request: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}
const protoCodecs: { [K in ProtoKind]: RequestCodec<RequestOf<K>> } = {
  put: messages["etcdserverpb.PutRequest"],
  deleteRange: messages["etcdserverpb.DeleteRangeRequest"],
  txn: messages["etcdserverpb.TxnRequest"],
  compaction: messages["etcdserverpb.CompactionRequest"],
  leaseGrant: messages["etcdserverpb.LeaseGrantRequest"],
  leaseRevoke: messages["etcdserverpb.LeaseRevokeRequest"],
  alarm: messages["etcdserverpb.AlarmRequest"],
  leaseCheckpoint: messages["etcdserverpb.LeaseCheckpointRequest"],
};

// Codes are persisted in the log: append new kinds, never renumber.
const kindCodes: ProposalKind[] = [
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
  "leaseCheckpoint",
];
const kindCode = new Map(kindCodes.map((kind, code) => [kind, code]));
const AUTH_FLAG = 0x80;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const EMPTY = new Uint8Array();

function isProtoKind(kind: ProposalKind): kind is ProtoKind {
  return kind in protoCodecs;
}

function encodePayload<K extends ProposalKind>(p: Proposal<K>): Uint8Array {
  if (isProtoKind(p.kind)) {
    // Proposal<K> pairs K with RequestOf<K>; TypeScript cannot follow that through the union.
    const codec = protoCodecs[p.kind] as RequestCodec<RequestOf<K>>;
    return codec.encode(p.request as RequestOf<K>);
  }
  return utf8.encode(
    JSON.stringify(p.request, (_k, v) => typeof v === "bigint" ? v.toString(16) : v),
  );
}

function decodePayload(kind: ProposalKind, payload: Uint8Array): RequestOf<ProposalKind> {
  if (isProtoKind(kind)) return protoCodecs[kind].decode(payload);
  const request = JSON.parse(fromUtf8.decode(payload));
  // JSON carries bigints as hex strings (see encodePayload).
  if (kind === "memberAttrSet") request.memberId = BigInt("0x" + request.memberId);
  return request;
}

export function encodeProposal<K extends ProposalKind>(p: Proposal<K>): Uint8Array {
  const payload = encodePayload(p);
  // Auth off, every request carries the empty identity: skip the encoder for it.
  const user = p.auth ? (p.auth.username ? utf8.encode(p.auth.username) : EMPTY) : undefined;
  const head = user ? 21 + user.length : 9;
  const out = new Uint8Array(head + payload.length);
  const view = new DataView(out.buffer);
  out[0] = kindCode.get(p.kind)! | (user ? AUTH_FLAG : 0);
  view.setBigUint64(1, p.id);
  if (user) {
    view.setBigUint64(9, BigInt(p.auth!.revision));
    view.setUint32(17, user.length);
    out.set(user, 21);
  }
  out.set(payload, head);
  return out;
}

/** How many bytes of an encoded proposal are its request (what follows the ID and identity). */
export function proposalPayloadLength(data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return data.length - (data[0] & AUTH_FLAG ? 21 + view.getUint32(17) : 9);
}

/** The proposer's request ID in an encoded proposal. */
export function proposalIdOf(data: Uint8Array): bigint {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(1);
}

/**
 * Kinds whose proposer may apply its own proposal object instead of decoding the entry: their
 * requests are decoded client messages of bytes and numbers, so they survive the round trip
 * through the log unchanged (JSON kinds do not: bigints become strings).
 */
export function appliesAsProposed(kind: ProposalKind): boolean {
  return kind === "put" || kind === "deleteRange" || kind === "txn";
}

export function decodeProposal(data: Uint8Array): Proposal {
  const kind = kindCodes[data[0] & ~AUTH_FLAG];
  if (kind === undefined) throw new Error(`unknown request kind ${data[0]} in raft entry`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const id = view.getBigUint64(1);
  let head = 9;
  let auth: AuthInfo | undefined;
  if (data[0] & AUTH_FLAG) {
    head = 21 + view.getUint32(17);
    auth = {
      revision: Number(view.getBigUint64(9)),
      username: fromUtf8.decode(data.subarray(21, head)),
    };
  }
  const request = decodePayload(kind, data.subarray(head));
  return (auth ? { kind, id, request, auth } : { kind, id, request }) as Proposal;
}
