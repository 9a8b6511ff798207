// The member's v2 store (etcd keeps one beside the v3 key space): v2 writes and quorum reads
// are "v2" entries applied here in log order; the leader proposes SYNC entries that expire
// TTLs; the store is persisted row by row in the backend's "v2store" bucket, in the same batch
// transaction as the consistent index of the entry that changed it (so a restart replays
// exactly the entries after it, and a snapshot, which is the backend file, carries it).
import {
  applyV2Request,
  type V2Changes,
  type V2Request,
  V2Store,
  type V2StoreJSON,
} from "../v2store/mod.ts";
import { MemberChangeError, type V2Deps, type V2Member } from "../api/mod.ts";
import { goDuration } from "../api/mod.ts";
import { StateType } from "../raft/mod.ts";
import type { ApplyResult } from "./apply.ts";
import { EtcdError } from "../errors/mod.ts";
import { formatId } from "./ids.ts";
import type { Member } from "./membership.ts";
import type { EtcdServer } from "./server.ts";

const BUCKET = "v2store";
const META = "meta";
const NODE = "n"; // n<path>
const EVENT = "e"; // e<20-digit index>
/** How often the leader looks for expired v2 keys (etcd's SYNC ticker). */
const SYNC_INTERVAL_MS = 500;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

const apis = new WeakMap<EtcdServer, V2Api>();

/** The apply path's entry point for a "v2" entry. */
export function applyV2(s: EtcdServer, body: V2Request): ApplyResult {
  return { response: V2Api.of(s).apply(body) };
}

export class V2Api {
  readonly store: V2Store;
  #mvcc: unknown;
  #timer?: ReturnType<typeof setInterval>;
  readonly #startTime = new Date();
  #leaderSeen = 0n;
  #leaderSince = new Date();

  /** The member's v2 store, loaded from its backend on first use. */
  static of(s: EtcdServer): V2Api {
    let api = apis.get(s);
    if (!api) {
      api = new V2Api(s);
      apis.set(s, api);
    }
    return api;
  }

  private constructor(readonly s: EtcdServer) {
    this.store = new V2Store(() => s.now());
    this.#reloadIfReplaced();
  }

  // A snapshot from the leader replaces the whole backend: reload from the new one.
  #reloadIfReplaced(): void {
    const mvcc = this.s.backend.store;
    if (mvcc === this.#mvcc) return;
    this.#mvcc = mvcc;
    const saved = loadStore(this.s);
    if (saved) this.store.restore(saved);
  }

  apply(req: V2Request) {
    this.#reloadIfReplaced();
    const res = applyV2Request(this.store, req);
    saveChanges(this.s, this.store.takeChanges());
    return res;
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
    this.#reloadIfReplaced();
    if (!this.s.isLeader) return;
    const now = this.s.now();
    if ((this.store.nextExpiry() ?? Infinity) > now) return;
    void this.s.propose("v2", { method: "SYNC", path: "/", time: now }).catch(() => {});
  }

  /** What the v2 HTTP API needs, on this member. */
  deps(): V2Deps {
    const s = this.s;
    const toV2 = (m: Member): V2Member => ({
      id: formatId(m.id),
      name: m.name,
      peerURLs: m.peerURLs,
      clientURLs: m.clientURLs,
    });
    const membership = () => s.state.membership;
    return {
      store: this.#readableStore(),
      apply: async (req) => (await s.propose("v2", req)).response,
      now: () => s.now(),
      clusterId: () => formatId(s.clusterId),
      raft: () => ({ index: s.node.status().hardState.commit, term: s.term }),
      members: () => membership().list().map(toV2),
      leader: () => {
        const m = membership().get(s.leader);
        return m && toV2(m);
      },
      addMember: async (peerURLs) => {
        const res = await memberCall(() => s.cluster.add(peerURLs, false));
        const m = membership().get(res.member!.ID)!;
        return toV2(m);
      },
      removeMember: async (id) => {
        if (membership().removed.has(id)) throw new MemberChangeError("removed", formatId(id));
        await memberCall(() => s.cluster.remove(id), formatId(id));
      },
      updateMember: async (id, peerURLs) => {
        await memberCall(() => s.cluster.update(id, peerURLs), formatId(id));
      },
      selfStats: () => this.#selfStats(),
      leaderStats: () => {
        if (!s.isLeader) return undefined;
        const followers: Record<string, unknown> = {};
        for (const m of membership().list()) {
          if (m.id === s.memberId) continue;
          followers[formatId(m.id)] = {
            latency: { current: 0, average: 0, standardDeviation: 0, minimum: 0, maximum: 0 },
            counts: { fail: 0, success: 0 },
          };
        }
        return { leader: formatId(s.memberId), followers };
      },
    };
  }

  // Reads see a snapshot's store as soon as it is installed, not only after the next entry.
  #readableStore(): V2Store {
    const reload = () => this.#reloadIfReplaced();
    return new Proxy(this.store, {
      get(target, prop) {
        reload();
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  }

  #selfStats() {
    const s = this.s;
    if (s.leader !== this.#leaderSeen) {
      this.#leaderSeen = s.leader;
      this.#leaderSince = new Date();
    }
    const state = ["StateFollower", "StateCandidate", "StateLeader", "StatePreCandidate"][
      [StateType.Follower, StateType.Candidate, StateType.Leader, StateType.PreCandidate]
        .indexOf(s.node.status().softState.raftState)
    ];
    return {
      name: s.state.membership.get(s.memberId)?.name ?? "",
      id: formatId(s.memberId),
      state,
      startTime: this.#startTime.toISOString(),
      leaderInfo: {
        leader: formatId(s.leader),
        uptime: goDuration(Date.now() - this.#leaderSince.getTime()),
        startTime: this.#leaderSince.toISOString(),
      },
      recvAppendRequestCnt: 0,
      sendAppendRequestCnt: 0,
    };
  }
}

/** Maps the server's membership errors onto the reasons the v2 members API reports. */
async function memberCall<T>(f: () => Promise<T>, id = ""): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof EtcdError) {
      if (err.message === "etcdserver: member ID already exist") {
        throw new MemberChangeError("idExists", id);
      }
      if (err.message === "etcdserver: Peer URLs already exists") {
        throw new MemberChangeError("peerURLExists", id);
      }
      if (err.message === "etcdserver: member not found") {
        throw new MemberChangeError("notFound", id);
      }
    }
    throw err;
  }
}

function loadStore(s: EtcdServer): V2StoreJSON | undefined {
  const rows = s.backend.aux.list(BUCKET);
  if (rows.length === 0) return undefined;
  const out: V2StoreJSON = { index: 0, stats: {} as V2StoreJSON["stats"], nodes: [], events: [] };
  for (const [key, value] of rows) {
    const v = JSON.parse(fromUtf8.decode(value));
    if (key === META) {
      out.index = v.index;
      out.stats = v.stats;
    } else if (key.startsWith(NODE)) out.nodes.push(v);
    else if (key.startsWith(EVENT)) out.events.push(v);
  }
  return out;
}

function saveChanges(s: EtcdServer, c: V2Changes): void {
  const aux = s.backend.aux;
  const put = (key: string, v: unknown) => aux.put(BUCKET, key, utf8.encode(JSON.stringify(v)));
  const eventKey = (i: number) => EVENT + String(i).padStart(20, "0");
  put(META, { index: c.index, stats: c.stats });
  for (const [path, rec] of c.nodes) {
    if (rec) put(NODE + path, rec);
    else aux.delete(BUCKET, NODE + path);
  }
  for (const e of c.events) put(eventKey(e.node!.modifiedIndex!), e);
  for (const i of c.evicted) aux.delete(BUCKET, eventKey(i));
}
