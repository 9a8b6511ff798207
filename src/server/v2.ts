// The member's side of etcd's v2 API: v2 writes and quorum reads are "v2" entries applied in
// log order (see v2_store.ts); the leader proposes SYNC entries that expire TTLs; and the facts
// /v2/stats and /v2/members report.
import type { V2Request, V2Result, V2Store } from "../v2store/mod.ts";
import { type RawNode, StateType } from "../raft/mod.ts";
import type { Member, Membership } from "./membership.ts";
import type { Propose } from "./proposer.ts";
import type { RaftStatus } from "./raft_status.ts";
import type { MemberV2Store } from "./v2_store.ts";

const RAFT_STATE_NAMES = new Map([
  [StateType.Follower, "StateFollower"],
  [StateType.Candidate, "StateCandidate"],
  [StateType.Leader, "StateLeader"],
  [StateType.PreCandidate, "StatePreCandidate"],
]);

/** How often the leader looks for expired v2 keys (etcd's SYNC ticker). */
const SYNC_INTERVAL_MS = 500;

export interface V2ApiDeps {
  v2: MemberV2Store;
  proposer: Propose;
  raft: RaftStatus;
  node: RawNode;
  membership: Membership;
  now(): number;
}

/** What /v2/stats/self reports of this member, before formatting. */
export interface V2SelfFacts {
  name: string;
  id: bigint;
  /** Raft's state as etcd names it ("StateLeader", ...). */
  state: string;
  startTime: Date;
  leader: bigint;
  /** When this member last saw the leader change. */
  leaderSince: Date;
}

export class V2Api {
  #timer?: ReturnType<typeof setInterval>;
  readonly #startTime = new Date();
  #leaderSeen = 0n;
  #leaderSince = new Date();

  constructor(readonly deps: V2ApiDeps) {}

  /** The local v2 store: serializable reads and watches. */
  get store(): V2Store {
    return this.deps.v2.store;
  }

  /** The v2 auth records (users, roles, the enabled flag), apart from the keys. */
  get authStore(): V2Store {
    return this.deps.v2.authStore;
  }

  /** Proposes a v2 request through Raft and resolves with its apply result. */
  apply(req: V2Request): Promise<V2Result> {
    return this.deps.proposer.propose("v2", req);
  }

  /** Starts proposing expiry on the leader; etcd does this whether or not v2 is served. */
  start(): void {
    this.#timer ??= setInterval(() => this.#sync(), SYNC_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sync(): void {
    const { raft, now, proposer } = this.deps;
    if (!raft.isLeader) return;
    const time = now();
    if ((this.store.nextExpiry() ?? Infinity) > time) return;
    void proposer.propose("v2", { method: "SYNC", path: "/", time }).catch(() => {});
  }

  /** Raft committed index and current term (X-Raft-Index, X-Raft-Term). */
  raftPosition(): { index: number; term: number } {
    return { index: this.deps.node.status().hardState.commit, term: this.deps.raft.term };
  }

  /** The proposer's clock, for TTL expiry times. */
  now(): number {
    return this.deps.now();
  }

  get memberId(): bigint {
    return this.deps.raft.memberId;
  }

  members(): Member[] {
    return this.deps.membership.list();
  }

  leader(): Member | undefined {
    return this.deps.membership.get(this.deps.raft.leader);
  }

  /** Whether the member with this ID was removed from the cluster. */
  isRemoved(id: bigint): boolean {
    return this.deps.membership.removed.has(id);
  }

  isLeader(): boolean {
    return this.deps.raft.isLeader;
  }

  self(): V2SelfFacts {
    const { raft, membership, node } = this.deps;
    if (raft.leader !== this.#leaderSeen) {
      this.#leaderSeen = raft.leader;
      this.#leaderSince = new Date();
    }
    return {
      name: membership.get(raft.memberId)?.name ?? "",
      id: raft.memberId,
      state: RAFT_STATE_NAMES.get(node.status().softState.raftState) ?? "",
      startTime: this.#startTime,
      leader: raft.leader,
      leaderSince: this.#leaderSince,
    };
  }
}
