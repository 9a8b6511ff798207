// What the v2 HTTP API needs from a member; src/server/v2.ts implements it on an EtcdServer and
// tests implement it on a bare store.
import type { V2Event, V2Request, V2Result } from "../../v2store/mod.ts";

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

/** A v2 watcher as the keys handler reads it: its start index, then its events. */
export interface V2KeyWatcher {
  readonly startIndex: number;
  /** The next event; undefined once the watch is over. */
  next(): Promise<V2Event | undefined>;
  remove(): void;
}

/**
 * Where v2 reads and watches are served from: the member's v2 store (whose answers come at
 * once), or with --experimental-enable-v2v3 the v3 store.
 */
export interface V2KeyStore {
  get(path: string, recursive?: boolean, sorted?: boolean): V2Event | Promise<V2Event>;
  watch(
    path: string,
    recursive: boolean,
    stream: boolean,
    sinceIndex: number,
  ): V2KeyWatcher | Promise<V2KeyWatcher>;
  /** The /v2/stats/store body (undefined: an empty answer). */
  stats(): unknown;
}

export interface V2Deps {
  /** The local v2 store: serializable reads and watches. */
  store: V2KeyStore;
  /** The local copy of the v2 auth records (users, roles, the enabled flag). */
  authStore: V2KeyStore;
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
