// Where a membership change is kept, as etcd 3.4's RaftCluster keeps it: in the v2 store under
// /0 (a member's raftAttributes and attributes, /0/removed_members, /0/version: what etcd's
// snapshots carry and its members recover from) and in the backend's members,
// members_removed and cluster buckets (etcd's values: the Member JSON, "removed", the version).
// The member's in-memory Membership changes with them.
import type { AuxBuckets } from "../mvcc/mod.ts";
import { ErrorCode, V2Error, type V2Store } from "../v2store/mod.ts";
import { formatId } from "./ids.ts";
import {
  attributesJSON,
  type Member,
  memberJSON,
  Membership,
  parseAttributes,
  parseMemberJSON,
  raftAttributesJSON,
} from "./membership.ts";
import { MemberV2Store } from "./v2_store.ts";

export const MEMBERS_BUCKET = "members";
export const MEMBERS_REMOVED_BUCKET = "members_removed";
export const CLUSTER_BUCKET = "cluster";
export const CLUSTER_VERSION_KEY = "clusterVersion";
/** The value etcd stores under a removed member's ID. */
export const REMOVED_VALUE = "removed";

const MEMBERS_DIR = "/0/members";
const REMOVED_DIR = "/0/removed_members";
const VERSION_PATH = "/0/version";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

const memberDir = (id: bigint) => `${MEMBERS_DIR}/${formatId(id)}`;

/** The /0 nodes of a member as etcd writes them (attributes only once it published). */
export function memberNodes(m: Member): [path: string, value: string][] {
  const nodes: [string, string][] = [[`${memberDir(m.id)}/raftAttributes`, raftAttributesJSON(m)]];
  if (m.name !== "" || m.clientURLs.length > 0) {
    nodes.push([`${memberDir(m.id)}/attributes`, attributesJSON(m.name, m.clientURLs)]);
  }
  return nodes;
}

export class MembershipStore {
  constructor(
    readonly membership: Membership,
    readonly v2: MemberV2Store,
    readonly aux: () => AuxBuckets,
  ) {}

  /** etcd's AddMember: the raft attributes in the store, the member in the backend. */
  addMember(m: Member): void {
    const [[path, value]] = memberNodes(m);
    this.v2.write((s) => s.create(path, false, value, false));
    this.#saveMember(m);
    this.membership.add(m);
  }

  /** etcd's RemoveMember: the member's nodes go, a removed_members node comes. */
  removeMember(id: bigint): void {
    this.v2.write((s) => {
      s.delete(memberDir(id), true, true);
      s.create(`${REMOVED_DIR}/${formatId(id)}`, false, "", false);
    });
    const aux = this.aux();
    aux.delete(MEMBERS_BUCKET, formatId(id));
    aux.put(MEMBERS_REMOVED_BUCKET, formatId(id), utf8.encode(REMOVED_VALUE));
    this.membership.remove(id);
  }

  /**
   * etcd's UpdateAttributes (a member published itself): false for a removed member, whose
   * attributes etcd skips. A member never added is a broken log: etcd panics.
   */
  updateAttributes(id: bigint, name: string, clientURLs: string[]): boolean {
    const m = this.membership.get(id);
    if (!m) {
      if (this.membership.removed.has(id)) return false;
      throw new Error(`error updating attributes of unknown member ${formatId(id)}`);
    }
    this.membership.setAttributes(id, name, clientURLs);
    const value = attributesJSON(name, clientURLs);
    this.v2.write((s) => s.set(`${memberDir(id)}/attributes`, false, value));
    this.#saveMember(this.membership.get(id)!);
    return true;
  }

  /** etcd's PromoteMember and UpdateRaftAttributes: the raft attributes replaced. */
  updateRaftAttributes(id: bigint, peerURLs: string[], isLearner: boolean): void {
    this.membership.setRaftAttributes(id, peerURLs, isLearner);
    const m = this.membership.get(id)!;
    this.v2.write((s) => s.update(`${memberDir(id)}/raftAttributes`, raftAttributesJSON(m)));
    this.#saveMember(m);
  }

  /** etcd's SetVersion: the decided cluster version in the store and the backend. */
  setVersion(version: string): void {
    this.membership.version = version;
    this.v2.write((s) => s.set(VERSION_PATH, false, version));
    this.aux().put(CLUSTER_BUCKET, CLUSTER_VERSION_KEY, utf8.encode(version));
  }

  #saveMember(m: Member): void {
    this.aux().put(MEMBERS_BUCKET, formatId(m.id), utf8.encode(memberJSON(m)));
  }
}

/**
 * A new cluster's members written where a member keeps them, as etcd's snapshot restore adds
 * each again (by ID) to a new v2 store: that store, whose JSON is the raft snapshot's data.
 */
export function seedMembership(aux: () => AuxBuckets, members: Membership): MemberV2Store {
  for (const bucket of [MEMBERS_BUCKET, MEMBERS_REMOVED_BUCKET, CLUSTER_BUCKET]) {
    for (const [key] of aux().list(bucket)) aux().delete(bucket, key);
  }
  const v2 = new MemberV2Store(aux, Date.now);
  const store = new MembershipStore(new Membership(members.clusterId), v2, aux);
  for (const m of members.list()) store.addMember({ ...m, peerURLs: [...m.peerURLs].sort() });
  return v2;
}

/** Writes the whole membership into the backend buckets, as etcd would have. */
export function saveMembershipBuckets(aux: AuxBuckets, m: Membership): void {
  for (const [key] of aux.list(MEMBERS_BUCKET)) aux.delete(MEMBERS_BUCKET, key);
  for (const member of m.list()) {
    aux.put(MEMBERS_BUCKET, formatId(member.id), utf8.encode(memberJSON(member)));
  }
  for (const id of m.removed) {
    aux.put(MEMBERS_REMOVED_BUCKET, formatId(id), utf8.encode(REMOVED_VALUE));
  }
  if (m.version) aux.put(CLUSTER_BUCKET, CLUSTER_VERSION_KEY, utf8.encode(m.version));
}

/** The membership the backend buckets hold, in the cluster `clusterId`. */
export function loadMembership(aux: AuxBuckets, clusterId: bigint): Membership {
  const m = new Membership(clusterId);
  for (const [, v] of aux.list(MEMBERS_BUCKET)) m.add(parseMemberJSON(fromUtf8.decode(v)).member);
  for (const [k] of aux.list(MEMBERS_REMOVED_BUCKET)) m.removed.add(BigInt("0x" + k));
  const version = aux.get(CLUSTER_BUCKET, CLUSTER_VERSION_KEY);
  if (version) m.version = fromUtf8.decode(version);
  return m;
}

/** etcd's membersFromStore and clusterVersionFromStore: the membership /0 describes. */
export function membershipFromStore(store: V2Store, clusterId: bigint): Membership {
  const m = new Membership(clusterId);
  for (const dir of children(store, MEMBERS_DIR)) {
    const id = BigInt("0x" + dir.key!.slice(dir.key!.lastIndexOf("/") + 1));
    const values = new Map(dir.nodes?.map((n) => [n.key!.slice(dir.key!.length + 1), n.value]));
    const raft = values.get("raftAttributes");
    if (raft === undefined) {
      throw new Error(`member ${formatId(id)}: raftAttributes key doesn't exist`);
    }
    const { member } = parseMemberJSON(raft);
    const attrs = parseAttributes(values.get("attributes") ?? "{}");
    m.add({ ...member, ...attrs, id });
  }
  for (const n of children(store, REMOVED_DIR)) {
    m.removed.add(BigInt("0x" + n.key!.slice(n.key!.lastIndexOf("/") + 1)));
  }
  m.version = lookup(store, VERSION_PATH)?.value ?? "";
  return m;
}

function lookup(store: V2Store, path: string) {
  try {
    return store.get(path, true, true).node;
  } catch (err) {
    if (err instanceof V2Error && err.errorCode === ErrorCode.KeyNotFound) return undefined;
    throw err;
  }
}

const children = (store: V2Store, path: string) => lookup(store, path)?.nodes ?? [];
