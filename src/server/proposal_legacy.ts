// Entries etcd-ts wrote before its entries carried etcd's encoding, read so that a member
// restarted on an older data dir applies the tail of its log: [kind: u8][request id: u64 BE]
// [payload], the kind's high bit set when [auth revision: u64 BE][username length: u32 BE]
// [username] follows the ID. Client requests were etcd's protobufs; the internal ones JSON,
// with v2 paths outside etcd's /1 (keys) and /2 (auth) prefixes, ms times and hashed passwords.
//
// etcd's entries start with a field tag: 0x08 (a bare v2 Request's ID), 0x12-0x5a (a request
// field below the header) or 0xa2 (the header). Old entries start with a kind code 0-11, with
// 0x80 when they carry a user; the one code both may start with is 0x08, an old member
// publishing its attributes, which is followed by the ID and then JSON ("{" at byte 9).
import { messages } from "../pb/mod.ts";
import type { AuthInfo, AuthRequest } from "../auth/mod.ts";
import type { V2Request } from "../v2store/mod.ts";
import { authEntryOf } from "./auth_entry.ts";
import type { Proposal, ProposalKind } from "./proposal.ts";
import { toEtcdV2Request } from "./v2_request.ts";

// Codes as they were persisted.
const KIND_CODES: ProposalKind[] = [
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
const AUTH_FLAG = 0x80;
const MEMBER_ATTR_CODE = KIND_CODES.indexOf("memberAttrSet");
const PROTO_CODECS = {
  put: messages["etcdserverpb.PutRequest"],
  deleteRange: messages["etcdserverpb.DeleteRangeRequest"],
  txn: messages["etcdserverpb.TxnRequest"],
  compaction: messages["etcdserverpb.CompactionRequest"],
  leaseGrant: messages["etcdserverpb.LeaseGrantRequest"],
  leaseRevoke: messages["etcdserverpb.LeaseRevokeRequest"],
  alarm: messages["etcdserverpb.AlarmRequest"],
  leaseCheckpoint: messages["etcdserverpb.LeaseCheckpointRequest"],
} as const;

const fromUtf8 = new TextDecoder();

function isOldMemberAttrSet(data: Uint8Array): boolean {
  if (data.length < 10 || data[9] !== 0x7b) return false;
  try {
    return typeof JSON.parse(fromUtf8.decode(data.subarray(9)))?.memberId === "string";
  } catch {
    return false;
  }
}

/** Whether the entry is in the encoding etcd-ts used before etcd's. */
export function isLegacyEntry(data: Uint8Array): boolean {
  const code = data[0] & ~AUTH_FLAG;
  if (code >= KIND_CODES.length) return false;
  if (data[0] === MEMBER_ATTR_CODE) return isOldMemberAttrSet(data);
  return true;
}

export function legacyIdOf(data: Uint8Array): bigint {
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(1);
}

function requestOf(kind: ProposalKind, payload: Uint8Array): unknown {
  if (kind in PROTO_CODECS) return PROTO_CODECS[kind as keyof typeof PROTO_CODECS].decode(payload);
  const json = JSON.parse(fromUtf8.decode(payload));
  switch (kind) {
    case "memberAttrSet":
      return { ...json, memberId: BigInt("0x" + json.memberId) };
    case "v2": {
      const r = json as V2Request & { auth?: boolean };
      return toEtcdV2Request(r, r.auth ? "/2" : "/1");
    }
    case "auth":
      return authEntryOf(json as AuthRequest);
  }
  return json;
}

export function decodeLegacyProposal(data: Uint8Array): Proposal {
  const kind = KIND_CODES[data[0] & ~AUTH_FLAG];
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
  const request = requestOf(kind, data.subarray(head));
  return { kind, id, request, ...(auth ? { auth } : {}), legacy: true } as Proposal;
}
