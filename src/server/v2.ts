// The member's side of etcd's v2 API: v2 writes and quorum reads are etcd's v2 Requests in the
// log, applied in log order (see v2_store.ts), under /1 for the keys and /2 for the v2 auth
// records, which the API sees as its root (etcd's StoreKeysPrefix); the leader proposes SYNC
// entries that expire TTLs; and the facts /v2/stats and /v2/members report.
import {
  V2Error,
  type V2Event,
  type V2Request,
  type V2Result,
  type V2Store,
  type Watcher,
} from "../v2store/mod.ts";
import { type RawNode, StateType } from "../raft/mod.ts";
import type { Member, Membership } from "./membership.ts";
import type { Propose } from "./proposer.ts";
import type { RaftStatus } from "./raft_status.ts";
import { toEtcdV2Request, underPrefix } from "./v2_request.ts";
import { AUTH_PREFIX, KEYS_PREFIX, type MemberV2Store, rekeyEvent } from "./v2_store.ts";

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

/** etcd's trimPrefix on a key: the prefix and nothing else taken off. */
const trimKey = (key: string, prefix: string) =>
  key.startsWith(prefix) ? key.slice(prefix.length) : key;

/** The event as the API shows it: its keys without the store's prefix. */
const trimEvent = (e: V2Event, prefix: string) => rekeyEvent(e, (key) => trimKey(key, prefix));

function trimError(err: unknown, prefix: string): unknown {
  if (!(err instanceof V2Error)) return err;
  return new V2Error(err.errorCode, trimKey(err.cause, prefix), err.index);
}

/** The v2 store as seen from under one prefix: paths go in without it, keys come out without. */
export class V2PrefixView {
  constructor(readonly store: V2Store, readonly prefix: string) {}

  get(path: string, recursive = false, sorted = false): V2Event {
    try {
      return trimEvent(
        this.store.get(underPrefix(this.prefix, path), recursive, sorted),
        this.prefix,
      );
    } catch (err) {
      throw trimError(err, this.prefix);
    }
  }

  watch(path: string, recursive: boolean, stream: boolean, sinceIndex: number) {
    let w: Watcher;
    try {
      w = this.store.watch(underPrefix(this.prefix, path), recursive, stream, sinceIndex);
    } catch (err) {
      throw trimError(err, this.prefix);
    }
    const prefix = this.prefix;
    return {
      startIndex: w.startIndex,
      next: async () => {
        const e = await w.next();
        return e && trimEvent(e, prefix);
      },
      remove: () => w.remove(),
    };
  }

  stats() {
    return this.store.stats();
  }

  /** An applied request's result as the API shows it. */
  result(res: V2Result): V2Result {
    const out: V2Result = {};
    if (res.event) out.event = trimEvent(res.event, this.prefix);
    if (res.error) {
      out.error = { ...res.error };
      if (res.error.cause !== undefined) {
        const cause = trimKey(res.error.cause, this.prefix);
        if (cause === "") delete out.error.cause;
        else out.error.cause = cause;
      }
    }
    return out;
  }
}

export class V2Api {
  #timer?: ReturnType<typeof setInterval>;
  readonly #startTime = new Date();
  #leaderSeen = 0n;
  #leaderSince = new Date();

  /** The keys (etcd's /1): serializable reads and watches from the local store. */
  readonly store: V2PrefixView;
  /** The v2 auth records (users, roles, the enabled flag; etcd's /2). */
  readonly authStore: V2PrefixView;

  constructor(readonly deps: V2ApiDeps) {
    this.store = new V2PrefixView(deps.v2.store, KEYS_PREFIX);
    this.authStore = new V2PrefixView(deps.v2.store, AUTH_PREFIX);
  }

  /** Proposes a v2 request (`auth`: of the auth records) and resolves with its result. */
  async apply(req: V2Request): Promise<V2Result> {
    const view = req.auth ? this.authStore : this.store;
    const res = await this.deps.proposer.propose("v2", toEtcdV2Request(req, view.prefix));
    return view.result(res);
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
    if ((this.deps.v2.store.nextExpiry() ?? Infinity) > time) return;
    const sync = toEtcdV2Request({ method: "SYNC", path: "", time }, "");
    void proposer.propose("v2", sync).catch(() => {});
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
