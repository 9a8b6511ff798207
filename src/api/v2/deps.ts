// What the v2 HTTP API needs from a member; src/server/v2.ts implements it on an EtcdServer and
// tests implement it on a bare store.
import type { V2Request, V2Result, V2Store } from "../../v2store/mod.ts";

export interface V2Member {
  /** Hex, as etcd prints IDs. */
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** A membership change refused for one of the reasons etcd's v2 members API names. */
export class MemberChangeError extends Error {
  constructor(
    readonly reason: "idExists" | "peerURLExists" | "notFound" | "removed",
    readonly id = "",
  ) {
    super(reason);
  }
}

export interface V2Deps {
  /** The local v2 store: serializable reads and watches. */
  store: V2Store;
  /** The local copy of the v2 auth records (users, roles, the enabled flag). */
  authStore: V2Store;
  /** Proposes a v2 request (`auth` set: to the auth records) through Raft; its apply result. */
  apply(req: V2Request): Promise<V2Result>;
  /** The proposer's clock, for TTL expiry times. */
  now(): number;
  clusterId(): string;
  /** Raft committed index and current term (X-Raft-Index, X-Raft-Term). */
  raft(): { index: number; term: number };
  members(): V2Member[];
  leader(): V2Member | undefined;
  addMember(peerURLs: string[]): Promise<V2Member>;
  removeMember(id: bigint): Promise<void>;
  updateMember(id: bigint, peerURLs: string[]): Promise<void>;
  /** /v2/stats/self and /v2/stats/leader bodies (leader: undefined on a follower). */
  selfStats(): unknown;
  leaderStats(): unknown | undefined;
}
