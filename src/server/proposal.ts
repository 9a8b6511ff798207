// What a raft entry carries, in etcd 3.4's encoding, so that etcd and etcd-ts members share one
// log: an InternalRaftRequest whose header names the proposer's request ID and user (client
// requests, leases, compaction, alarms, auth changes), or a bare v2 Request (v2 writes and
// quorum reads, the leader's SYNC, a member publishing its attributes, the cluster version).
// `Proposals` ties each kind to its request and its apply result; the proposer, the entry
// codec and the apply table are all typed by it. Entries etcd-ts wrote before it used etcd's
// encoding are still read (proposal_legacy.ts).
import {
  type AlarmMember,
  type AlarmRequest,
  type InternalRaftRequest,
  type LeaseCheckpointRequest,
  type MessageCodec,
  type MessageName,
  messages,
  ProtoDecodeError,
  Reader,
  sI64,
  sv32,
  wBytes,
  wI64,
  wv32,
} from "../pb/mod.ts";
import type { AuthApplyResult, AuthInfo } from "../auth/mod.ts";
import type { V2Result } from "../v2store/mod.ts";
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
import { formatId } from "./ids.ts";
import { attributesJSON } from "./membership.ts";
import {
  decodeEtcdV2Request,
  encodeEtcdV2Request,
  type EtcdV2Request,
  etcdV2Request,
} from "./v2_request.ts";
import { decodeLegacyProposal, isLegacyEntry, legacyIdOf } from "./proposal_legacy.ts";

/** Internal requests: the cluster version, a member publishing its attributes. */
export interface ClusterVersionSet {
  version: string;
}
export interface MemberAttrSet {
  memberId: bigint;
  name: string;
  clientURLs: string[];
}

/** InternalRaftRequest's auth fields: the auth changes, authenticate, and 3.4's auth reads. */
export type AuthField =
  | "authEnable"
  | "authDisable"
  | "authenticate"
  | "authUserAdd"
  | "authUserDelete"
  | "authUserGet"
  | "authUserChangePassword"
  | "authUserGrantRole"
  | "authUserRevokeRole"
  | "authUserList"
  | "authRoleList"
  | "authRoleAdd"
  | "authRoleDelete"
  | "authRoleGet"
  | "authRoleGrantPermission"
  | "authRoleRevokePermission";

/** An auth request as etcd proposes it: exactly one of the auth fields, passwords in clear. */
export type AuthEntry = Pick<InternalRaftRequest, AuthField>;

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
  /** etcd's v2 Request (paths under /0, /1 or /2 of the member's v2 store). */
  v2: { request: EtcdV2Request; response: V2Result };
  auth: { request: AuthEntry; response: AuthApplyResult };
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
    /** The client's identity (the header's user and auth revision); absent: none. */
    auth?: AuthInfo;
    /**
     * Read from an entry etcd-ts wrote before it used etcd's encoding: applied as it was then
     * (passwords arrive hashed; a request without identity is not checked).
     */
    legacy?: true;
  }
  : never;

// The InternalRaftRequest field of each kind whose request is one of etcd's messages.
type ProtoKind = Exclude<ProposalKind, "auth" | "v2" | "clusterVersionSet" | "memberAttrSet">;
const PROTO_FIELDS: { [K in ProtoKind]: [no: number, codec: MessageName] } = {
  put: [4, "etcdserverpb.PutRequest"],
  deleteRange: [5, "etcdserverpb.DeleteRangeRequest"],
  txn: [6, "etcdserverpb.TxnRequest"],
  compaction: [7, "etcdserverpb.CompactionRequest"],
  leaseGrant: [8, "etcdserverpb.LeaseGrantRequest"],
  leaseRevoke: [9, "etcdserverpb.LeaseRevokeRequest"],
  alarm: [10, "etcdserverpb.AlarmRequest"],
  leaseCheckpoint: [11, "etcdserverpb.LeaseCheckpointRequest"],
};
const AUTH_FIELDS: { [F in AuthField]: [no: number, codec: MessageName] } = {
  authEnable: [1000, "etcdserverpb.AuthEnableRequest"],
  authDisable: [1011, "etcdserverpb.AuthDisableRequest"],
  authenticate: [1012, "etcdserverpb.InternalAuthenticateRequest"],
  authUserAdd: [1100, "etcdserverpb.AuthUserAddRequest"],
  authUserDelete: [1101, "etcdserverpb.AuthUserDeleteRequest"],
  authUserGet: [1102, "etcdserverpb.AuthUserGetRequest"],
  authUserChangePassword: [1103, "etcdserverpb.AuthUserChangePasswordRequest"],
  authUserGrantRole: [1104, "etcdserverpb.AuthUserGrantRoleRequest"],
  authUserRevokeRole: [1105, "etcdserverpb.AuthUserRevokeRoleRequest"],
  authUserList: [1106, "etcdserverpb.AuthUserListRequest"],
  authRoleList: [1107, "etcdserverpb.AuthRoleListRequest"],
  authRoleAdd: [1200, "etcdserverpb.AuthRoleAddRequest"],
  authRoleDelete: [1201, "etcdserverpb.AuthRoleDeleteRequest"],
  authRoleGet: [1202, "etcdserverpb.AuthRoleGetRequest"],
  authRoleGrantPermission: [1203, "etcdserverpb.AuthRoleGrantPermissionRequest"],
  authRoleRevokePermission: [1204, "etcdserverpb.AuthRoleRevokePermissionRequest"],
};
const ID_FIELD = 1;
const V2_FIELD = 2;
const HEADER_FIELD = 100;

/** What an InternalRaftRequest field number decodes to. */
const BY_NUMBER = new Map<number, [codec: MessageName, kind: ProtoKind | AuthField]>();
for (const [k, [no, codec]] of [...Object.entries(PROTO_FIELDS), ...Object.entries(AUTH_FIELDS)]) {
  BY_NUMBER.set(no, [codec, k as ProtoKind | AuthField]);
}

const utf8 = new TextEncoder();

/** A length-delimited field: tag, length, bytes. */
function delimitedSize(no: number, length: number): number {
  return sv32((no << 3) | 2) + sv32(length) + length;
}
function writeDelimited(out: Uint8Array, p: number, no: number, body: Uint8Array): number {
  return wBytes(out, wv32(out, p, (no << 3) | 2), body);
}

/** etcd's RequestHeader: the request ID, and the user with its auth revision when there is one. */
class RequestHeader {
  readonly user: Uint8Array | undefined;
  readonly revision: number;
  /** Bytes of its encoding. */
  readonly size: number;

  constructor(readonly id: bigint, auth: AuthInfo | undefined) {
    this.user = auth?.username ? utf8.encode(auth.username) : undefined;
    this.revision = auth?.revision ?? 0;
    let size = id ? 1 + sI64(id) : 0;
    if (this.user) size += delimitedSize(2, this.user.length);
    if (this.revision) size += 1 + sI64(this.revision);
    this.size = size;
  }

  /** Writes it as InternalRaftRequest's header field at `p`; returns the end. */
  writeField(out: Uint8Array, p: number): number {
    p = wv32(out, wv32(out, p, (HEADER_FIELD << 3) | 2), this.size);
    if (this.id) p = wI64(out, wv32(out, p, 0x08), this.id);
    if (this.user) p = writeDelimited(out, p, 2, this.user);
    if (this.revision) p = wI64(out, wv32(out, p, 0x18), this.revision);
    return p;
  }
}

/**
 * An InternalRaftRequest of one request field and the header, in field-number order. A request
 * field before the header is encoded straight into the entry's buffer when its codec can.
 */
function encodeInternal(no: number, codec: MessageName, msg: unknown, h: RequestHeader) {
  const headerField = delimitedSize(HEADER_FIELD, h.size);
  const c = messages[codec] as MessageCodec<unknown>;
  if (no < HEADER_FIELD && c.encodeField) {
    const out = c.encodeField(msg, no, headerField);
    h.writeField(out, out.length - headerField);
    return out;
  }
  const body = c.encode(msg);
  const out = new Uint8Array(delimitedSize(no, body.length) + headerField);
  if (no < HEADER_FIELD) h.writeField(out, writeDelimited(out, 0, no, body));
  else writeDelimited(out, h.writeField(out, 0), no, body);
  return out;
}

function authFieldOf(r: AuthEntry): AuthField {
  const set = (Object.keys(AUTH_FIELDS) as AuthField[]).filter((f) => r[f] !== undefined);
  if (set.length !== 1) throw new Error(`an auth entry holds ${set.length} requests`);
  return set[0];
}

const CLUSTER_VERSION_PATH = "/0/version";
const memberAttributesPath = (id: bigint) => `/0/members/${formatId(id)}/attributes`;

/** The v2 Request of a v2 proposal, or the one etcd 3.4 proposes for the member's own. */
export function v2RequestOf(p: Proposal): EtcdV2Request | undefined {
  if (p.kind === "clusterVersionSet") {
    return etcdV2Request({ Method: "PUT", Path: CLUSTER_VERSION_PATH, Val: p.request.version });
  }
  if (p.kind === "memberAttrSet") {
    const { memberId, name, clientURLs } = p.request;
    return etcdV2Request({
      Method: "PUT",
      Path: memberAttributesPath(memberId),
      Val: attributesJSON(name, clientURLs),
    });
  }
  return p.kind === "v2" ? p.request : undefined;
}

/** The entry data etcd writes for the same request. */
export function encodeProposal<K extends ProposalKind>(p: Proposal<K>): Uint8Array {
  const v2 = v2RequestOf(p as Proposal);
  if (v2) return encodeEtcdV2Request(p.id, v2);
  if (p.legacy) throw new Error("entries of the old encoding are read, never written");
  const header = new RequestHeader(p.id, p.auth);
  if (p.kind === "auth") {
    const field = authFieldOf(p.request as AuthEntry);
    const [no, codec] = AUTH_FIELDS[field];
    return encodeInternal(no, codec, (p.request as AuthEntry)[field], header);
  }
  const [no, codec] = PROTO_FIELDS[p.kind as ProtoKind];
  return encodeInternal(no, codec, p.request, header);
}

/** Kinds etcd checks against --max-request-bytes: those it proposes as InternalRaftRequest. */
export function isSizeChecked(kind: ProposalKind): boolean {
  return kind !== "v2" && kind !== "clusterVersionSet" && kind !== "memberAttrSet";
}

/**
 * Kinds whose proposer may apply its own proposal object instead of decoding the entry: their
 * requests are decoded client messages of bytes and numbers, so they survive the round trip
 * through the log unchanged.
 */
export function appliesAsProposed(kind: ProposalKind): boolean {
  return kind === "put" || kind === "deleteRange" || kind === "txn";
}

/** A bare v2 Request starts with its ID field; an InternalRaftRequest from etcd 3 never does. */
const isBareV2 = (data: Uint8Array) => data[0] === 0x08;

/** The proposer's request ID in an entry (etcd's: InternalRaftRequest.ID, else its header's). */
// Reading an entry's ID is synchronous and never re-entered: one reader serves every entry.
const idReader = new Reader();

export function proposalIdOf(data: Uint8Array): bigint {
  if (isLegacyEntry(data)) return legacyIdOf(data);
  const r = idReader.reset(data);
  if (isBareV2(data)) {
    r.pos = 1;
    return r.u64n();
  }
  let id = 0n;
  let headerId = 0n;
  while (r.pos < data.length) {
    const tag = r.u32();
    if (tag === 0x08) id = r.u64n();
    else if (tag >>> 3 === HEADER_FIELD && (tag & 7) === 2) {
      const end = r.delimited();
      if (r.pos < end && data[r.pos] === 0x08) {
        r.pos++;
        headerId = r.u64n();
      }
      r.pos = end;
    } else r.unknown(tag, "InternalRaftRequest");
  }
  return id || headerId;
}

export function decodeProposal(data: Uint8Array): Proposal {
  if (isLegacyEntry(data)) return decodeLegacyProposal(data);
  if (isBareV2(data)) {
    const { id, request } = decodeEtcdV2Request(data);
    return v2Proposal(id, request, data);
  }
  return decodeInternal(data);
}

const MEMBER_ATTRIBUTES = /^\/0\/members\/([0-9a-f]{1,16})\/attributes$/;

/**
 * A v2 request: the member's own PUTs of its attributes or the cluster version get their kinds
 * when they are exactly what etcd proposes for them (they encode back to the same bytes).
 */
function v2Proposal(id: bigint, request: EtcdV2Request, data?: Uint8Array): Proposal {
  const generic: Proposal = { kind: "v2", id, request };
  if (request.Method !== "PUT" || !data) return generic;
  let p: Proposal | undefined;
  const attr = MEMBER_ATTRIBUTES.exec(request.Path);
  if (request.Path === CLUSTER_VERSION_PATH) {
    p = { kind: "clusterVersionSet", id, request: { version: request.Val } };
  } else if (attr) {
    try {
      const a = JSON.parse(request.Val);
      const clientURLs = Array.isArray(a?.clientURLs) ? a.clientURLs : [];
      const name = typeof a?.name === "string" ? a.name : "";
      p = {
        kind: "memberAttrSet",
        id,
        request: { memberId: BigInt("0x" + attr[1]), name, clientURLs },
      };
    } catch {
      return generic;
    }
  }
  if (!p) return generic;
  const again = encodeProposal(p);
  return again.length === data.length && again.every((b, i) => b === data[i]) ? p : generic;
}

function decodeInternal(data: Uint8Array): Proposal {
  const r = new Reader(data);
  let id = 0n;
  let auth: AuthInfo | undefined;
  let found: Proposal | undefined;
  const take = (p: Proposal) => {
    if (found) throw new ProtoDecodeError("an entry holds more than one request");
    found = p;
  };
  while (r.pos < data.length) {
    const tag = r.u32();
    const no = tag >>> 3;
    if (tag === 0x08) {
      id = r.u64n();
      continue;
    }
    const entry = no === HEADER_FIELD || no === V2_FIELD || BY_NUMBER.has(no);
    if (!entry || (tag & 7) !== 2) {
      if (entry || no === ID_FIELD) throw new ProtoDecodeError(`proto: wrong wireType for ${no}`);
      r.unknown(tag, "InternalRaftRequest");
      continue;
    }
    const end = r.delimited();
    const body = data.subarray(r.pos, end);
    r.pos = end;
    if (no === HEADER_FIELD) {
      const h = messages["etcdserverpb.RequestHeader"].decode(body);
      if (!id) id = h.ID;
      if (h.username || h.authRevision) auth = { username: h.username, revision: h.authRevision };
    } else if (no === V2_FIELD) {
      const v2 = decodeEtcdV2Request(body);
      take(v2Proposal(v2.id, v2.request));
    } else {
      const [codec, kind] = BY_NUMBER.get(no)!;
      const msg = messages[codec].decode(body);
      take(
        kind in AUTH_FIELDS
          ? { kind: "auth", id: 0n, request: { [kind]: msg } as AuthEntry }
          : { kind: kind as ProtoKind, id: 0n, request: msg } as Proposal,
      );
    }
  }
  if (!found) {
    throw new ProtoDecodeError("an InternalRaftRequest without a request etcd-ts applies");
  }
  if (found.kind === "v2") return found;
  return (auth ? { ...found, id, auth } : { ...found, id }) as Proposal;
}
