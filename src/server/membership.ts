// The cluster's membership as the applied log defines it: members, removed IDs, the cluster ID
// and the cluster version. Changed only from the apply path, so every member agrees on it.
import { Errors } from "../errors/mod.ts";
import { goObject, goString, goStrings } from "../v2store/mod.ts";

export interface Member {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/**
 * etcd's membership.Member as Go marshals it (the conf change context of an add or update, the
 * members bucket's values): the ID a JSON number, exact to 64 bits; isLearner, name and
 * clientURLs only when set.
 */
export function memberJSON(m: Member): string {
  return goObject([
    ["id", m.id.toString()],
    ["peerURLs", goStrings(m.peerURLs)],
    ["isLearner", m.isLearner ? "true" : undefined],
    ["name", m.name !== "" ? goString(m.name) : undefined],
    ["clientURLs", m.clientURLs.length > 0 ? goStrings(m.clientURLs) : undefined],
  ]);
}

/** The conf change context etcd proposes to promote a learner (a ConfigChangeContext). */
export function promoteContextJSON(id: bigint): string {
  return goObject([["id", id.toString()], ["peerURLs", "null"], ["isPromote", "true"]]);
}

/** A member's RaftAttributes as etcd keeps them in the v2 store. */
export function raftAttributesJSON(m: Member): string {
  return goObject([
    ["peerURLs", goStrings(m.peerURLs)],
    ["isLearner", m.isLearner ? "true" : undefined],
  ]);
}

/** A member's Attributes, as it publishes them and etcd keeps them in the v2 store. */
export function attributesJSON(name: string, clientURLs: string[]): string {
  return goObject([
    ["name", name !== "" ? goString(name) : undefined],
    ["clientURLs", clientURLs.length > 0 ? goStrings(clientURLs) : undefined],
  ]);
}

/** What a conf change context or a stored member says. */
export interface MemberContext {
  member: Member;
  /** etcd's ConfigChangeContext.IsPromote: an AddNode that promotes a learner. */
  isPromote: boolean;
  /** Written by etcd-ts before it wrote etcd's JSON (the ID a hex string). */
  legacy: boolean;
}

type JSONMember = {
  id?: bigint | string;
  peerURLs?: string[] | null;
  isLearner?: boolean;
  name?: string;
  clientURLs?: string[] | null;
  isPromote?: boolean;
};

/**
 * Reads etcd's member JSON (a Member or ConfigChangeContext), keeping the numeric ID exact, and
 * also the contexts etcd-ts proposed before it wrote etcd's (the ID a hex string). Throws a
 * SyntaxError for anything else.
 */
export function parseMemberJSON(text: string): MemberContext {
  // The ID as the digits say: JSON.parse would round it to a double.
  const j: JSONMember = JSON.parse(
    text,
    (k, v, ctx?: { source?: string }) =>
      k === "id" && typeof v === "number" ? BigInt(ctx!.source!) : v,
  );
  if (typeof j !== "object" || j === null) throw new SyntaxError(`not a member: ${text}`);
  const id = typeof j.id === "string" ? BigInt("0x" + j.id) : j.id ?? 0n;
  return {
    member: {
      id,
      name: j.name ?? "",
      peerURLs: j.peerURLs ?? [],
      clientURLs: j.clientURLs ?? [],
      isLearner: j.isLearner ?? false,
    },
    isPromote: j.isPromote ?? false,
    legacy: typeof j.id === "string",
  };
}

/** A published Attributes value: name and client URLs. */
export function parseAttributes(text: string): { name: string; clientURLs: string[] } {
  const j = JSON.parse(text) as { name?: string; clientURLs?: string[] | null } | null;
  if (typeof j !== "object" || j === null) throw new SyntaxError(`not attributes: ${text}`);
  return { name: j.name ?? "", clientURLs: j.clientURLs ?? [] };
}

export class Membership {
  readonly members = new Map<bigint, Member>();
  readonly removed = new Set<bigint>();
  /** The decided cluster version ("3.4.0"), empty until the leader sets it. */
  version = "";

  constructor(public clusterId: bigint) {}

  get(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  /** Members sorted by ID, as etcd lists them. */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  voters(): Member[] {
    return this.list().filter((m) => !m.isLearner);
  }

  /** Checks a requested change before it is proposed, with etcd's errors. */
  validateAdd(m: Member): void {
    if (this.members.has(m.id) || this.removed.has(m.id)) throw Errors.memberExist();
    const taken = new Set([...this.members.values()].flatMap((x) => x.peerURLs));
    if (m.peerURLs.some((u) => taken.has(u))) throw Errors.peerURLExist();
    if (m.isLearner && this.list().some((x) => x.isLearner)) throw Errors.tooManyLearners();
  }

  validateUpdate(id: bigint, peerURLs: string[]): void {
    if (!this.members.has(id)) throw Errors.memberNotFound();
    const taken = new Set(
      [...this.members.values()].filter((x) => x.id !== id).flatMap((x) => x.peerURLs),
    );
    if (peerURLs.some((u) => taken.has(u))) throw Errors.peerURLExist();
  }

  validateExisting(id: bigint): Member {
    const m = this.members.get(id);
    if (!m) throw Errors.memberNotFound();
    return m;
  }

  add(m: Member): void {
    this.members.set(m.id, { ...m });
  }

  remove(id: bigint): void {
    this.members.delete(id);
    this.removed.add(id);
  }

  /** etcd's RaftAttributes replaced as a whole: an update of peer URLs makes a voter. */
  setRaftAttributes(id: bigint, peerURLs: string[], isLearner: boolean): void {
    const m = this.members.get(id);
    if (m) {
      m.peerURLs = [...peerURLs];
      m.isLearner = isLearner;
    }
  }

  setAttributes(id: bigint, name: string, clientURLs: string[]): void {
    const m = this.members.get(id);
    if (m) {
      m.name = name;
      m.clientURLs = [...clientURLs];
    }
  }

  /** Takes over another membership's state (a snapshot replaced ours), so that everyone keeps
   * holding the one object. */
  replaceWith(other: Membership): void {
    this.clusterId = other.clusterId;
    this.members.clear();
    for (const m of other.list()) this.add(m);
    this.removed.clear();
    for (const id of other.removed) this.removed.add(id);
    this.version = other.version;
  }
}

/** etcd's `{Name:s1 ClientURLs:[http://127.0.5.1:2379]}` rendering of a member's attributes. */
export function formatAttributes(name: string, clientURLs: string[]): string {
  return `{Name:${name} ClientURLs:[${clientURLs.join(" ")}]}`;
}
