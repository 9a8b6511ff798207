// The cluster's membership as the applied log defines it: members, removed IDs, the cluster ID
// and the cluster version. Changed only from the apply path, so every member agrees on it.
import { Errors } from "../errors/mod.ts";
import { formatId } from "./ids.ts";

export interface Member {
  id: bigint;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** The JSON form carried in ConfChange contexts, persisted in the backend and in snapshots. */
interface MemberJSON {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface MembershipJSON {
  clusterId: string;
  members: MemberJSON[];
  removed: string[];
  version: string;
}

export function memberToJSON(m: Member): MemberJSON {
  return { ...m, id: formatId(m.id) };
}

export function memberFromJSON(j: MemberJSON): Member {
  return {
    id: BigInt("0x" + j.id),
    name: j.name ?? "",
    peerURLs: j.peerURLs ?? [],
    clientURLs: j.clientURLs ?? [],
    isLearner: j.isLearner ?? false,
  };
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

  updatePeerURLs(id: bigint, peerURLs: string[]): void {
    const m = this.members.get(id);
    if (m) m.peerURLs = [...peerURLs];
  }

  setAttributes(id: bigint, name: string, clientURLs: string[]): void {
    const m = this.members.get(id);
    if (m) {
      m.name = name;
      m.clientURLs = [...clientURLs];
    }
  }

  promote(id: bigint): void {
    const m = this.members.get(id);
    if (m) m.isLearner = false;
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

  toJSON(): MembershipJSON {
    return {
      clusterId: formatId(this.clusterId),
      members: this.list().map(memberToJSON),
      removed: [...this.removed].map(formatId),
      version: this.version,
    };
  }

  static fromJSON(j: MembershipJSON): Membership {
    const m = new Membership(BigInt("0x" + j.clusterId));
    for (const mj of j.members) m.add(memberFromJSON(mj));
    for (const r of j.removed) m.removed.add(BigInt("0x" + r));
    m.version = j.version;
    return m;
  }
}

/** etcd's `{Name:s1 ClientURLs:[http://127.0.5.1:2379]}` rendering of a member's attributes. */
export function formatAttributes(name: string, clientURLs: string[]): string {
  return `{Name:${name} ClientURLs:[${clientURLs.join(" ")}]}`;
}
