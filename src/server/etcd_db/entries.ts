// etcd 3.4's raft entries in this member's encoding, for the entries of a taken-over data dir
// that its backend has not applied yet. A normal entry carries an InternalRaftRequest, or a
// bare v2 Request (how 3.4 members publish their attributes and set the cluster version); a
// conf change carries the member as etcd's JSON. Key space, lease, compaction and alarm
// requests are etcd's protobufs here too; requests that change only what a restart rebuilds
// (reads, authentication) become empty entries; anything else is refused, with what to do.
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  encodeConfChange,
  type Entry,
  EntryType,
} from "../../raft/mod.ts";
import { type InternalRaftRequest, messages, type Request } from "../../pb/mod.ts";
import { memberToJSON } from "../membership.ts";
import { encodeProposal, type Proposal } from "../proposal.ts";
import { EtcdDbError, parseMemberJSON } from "./layout.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const EMPTY = new Uint8Array();

const MEMBER_ATTRIBUTES = /^\/0\/members\/([0-9a-f]{1,16})\/attributes$/;
const CLUSTER_VERSION = "/0/version";

/** The advice that goes with every refusal. */
const CLEAN_STOP = "start etcd 3.4 on this data dir, let it apply its log and stop it " +
  "cleanly, then start etcd-ts on it";

export function refusal(index: number, what: string): EtcdDbError {
  return new EtcdDbError(
    `etcd's WAL holds entry ${index} (${what}) after the backend's consistent index, which ` +
      `etcd-ts cannot apply: ${CLEAN_STOP}`,
  );
}

/** Converts the entries to apply after a takeover; throws a refusal for any it cannot. */
export function convertEtcdEntries(entries: Entry[]): Entry[] {
  return entries.map((e) => ({ ...e, data: convertData(e) }));
}

function convertData(e: Entry): Uint8Array {
  if (e.type === EntryType.ConfChange) return convertConfChange(e.data);
  if (e.type !== EntryType.Normal) throw refusal(e.index, `entry type ${e.type}`);
  if (e.data.length === 0) return EMPTY;
  const req = decodeEntryRequest(e.data);
  if ("Method" in req) return encodeProposal(v2Proposal(req) ?? refuseV2(req, e.index));
  const p = internalProposal(req, e.index);
  return p ? encodeProposal(p) : EMPTY;
}

/** etcd's MaybeUnmarshal: an InternalRaftRequest, or else a bare v2 Request. */
export function decodeEntryRequest(data: Uint8Array): InternalRaftRequest | Request {
  try {
    return messages["etcdserverpb.InternalRaftRequest"].decode(data);
  } catch {
    return messages["etcdserverpb.Request"].decode(data);
  }
}

/**
 * The v2 requests etcd 3.4's cluster makes itself (undefined for any other: a v2 client's
 * request, whose data etcd-ts does not take over).
 */
export function v2Proposal(req: Request): Proposal | undefined {
  const attr = MEMBER_ATTRIBUTES.exec(req.Path);
  if (req.Method === "PUT" && attr) {
    let a: { name?: string; clientURLs?: string[] };
    try {
      a = JSON.parse(req.Val);
    } catch {
      return undefined;
    }
    return {
      kind: "memberAttrSet",
      id: req.ID,
      request: {
        memberId: BigInt("0x" + attr[1]),
        name: a.name ?? "",
        clientURLs: a.clientURLs ?? [],
      },
    };
  }
  if (req.Method === "PUT" && req.Path === CLUSTER_VERSION) {
    return { kind: "clusterVersionSet", id: req.ID, request: { version: req.Val } };
  }
  return undefined;
}

function refuseV2(req: Request, index: number): never {
  throw refusal(index, `v2 ${req.Method} ${req.Path}`);
}

function internalProposal(r: InternalRaftRequest, index: number): Proposal | undefined {
  const id = r.ID !== 0n ? r.ID : r.header?.ID ?? 0n;
  const auth = r.header?.username
    ? { username: r.header.username, revision: r.header.authRevision }
    : undefined;
  const p = (kind: Proposal["kind"], request: unknown) =>
    ({ kind, id, request, ...(auth ? { auth } : {}) }) as Proposal;
  if (r.v2) return v2Proposal(r.v2) ?? refuseV2(r.v2, index);
  if (r.put) return p("put", r.put);
  if (r.deleteRange) return p("deleteRange", r.deleteRange);
  if (r.txn) return p("txn", r.txn);
  if (r.compaction) return p("compaction", r.compaction);
  if (r.leaseGrant) return p("leaseGrant", r.leaseGrant);
  if (r.leaseRevoke) return p("leaseRevoke", r.leaseRevoke);
  if (r.alarm) return p("alarm", r.alarm);
  // Reads and logins change nothing a restart keeps.
  const readOnly = r.range ?? r.authenticate ?? r.authUserGet ?? r.authUserList ??
    r.authRoleGet ?? r.authRoleList;
  if (readOnly) return undefined;
  const field = Object.keys(r).find((k) => k !== "ID" && k !== "header") ?? "empty request";
  throw refusal(index, field);
}

/** etcd's member JSON in a conf change's context becomes this member's. */
function convertConfChange(data: Uint8Array): Uint8Array {
  const cc = decodeConfChange(data);
  if (cc.context.length === 0) return data;
  const member = parseMemberJSON(fromUtf8.decode(cc.context));
  return encodeConfChange({ ...cc, context: utf8.encode(JSON.stringify(memberToJSON(member))) });
}

/** The configuration after the conf change entries among `entries`. */
export function confStateAfter(start: ConfState, entries: Entry[]): ConfState {
  const voters = new Set(start.voters);
  const learners = new Set(start.learners);
  for (const e of entries) {
    if (e.type !== EntryType.ConfChange) continue;
    const cc: ConfChange = decodeConfChange(e.data);
    if (cc.type === ConfChangeType.AddNode) {
      learners.delete(cc.nodeId);
      voters.add(cc.nodeId);
    } else if (cc.type === ConfChangeType.AddLearnerNode) {
      if (!voters.has(cc.nodeId)) learners.add(cc.nodeId);
    } else if (cc.type === ConfChangeType.RemoveNode) {
      voters.delete(cc.nodeId);
      learners.delete(cc.nodeId);
    }
  }
  const sorted = (s: Set<bigint>) => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { voters: sorted(voters), learners: sorted(learners) };
}
