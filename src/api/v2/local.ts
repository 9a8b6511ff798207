// A v2 API over a store in this process, without Raft: writes apply at once and a timer expires
// TTLs. For tests and for a discovery service that keeps its tokens in memory.
import { applyV2Request, V2Store } from "../../v2store/mod.ts";
import type { V2Deps, V2Member } from "./deps.ts";

export interface LocalV2 {
  deps: V2Deps;
  /** The store the deps serve. */
  store: V2Store;
  /** Stops the expiry timer. */
  close(): void;
}

export function localV2(
  opts: { store?: V2Store; clientURLs?: string[]; expireEveryMs?: number } = {},
): LocalV2 {
  const store = opts.store ?? new V2Store();
  const authStore = new V2Store();
  const self: V2Member = {
    id: "0",
    name: "local",
    peerURLs: [],
    clientURLs: opts.clientURLs ?? [],
  };
  let applied = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    if ((store.nextExpiry() ?? Infinity) <= now) {
      applyV2Request(store, { method: "SYNC", path: "/", time: now });
      applied++;
    }
  }, opts.expireEveryMs ?? 500);
  const startTime = new Date().toISOString();
  const deps: V2Deps = {
    store,
    authStore,
    apply: (req) => {
      applied++;
      return Promise.resolve(applyV2Request(req.auth ? authStore : store, req));
    },
    now: () => Date.now(),
    clusterId: () => "0",
    raft: () => ({ index: applied, term: 1 }),
    members: () => [self],
    leader: () => self,
    addMember: () => Promise.reject(new Error("membership changes need a cluster")),
    removeMember: () => Promise.reject(new Error("membership changes need a cluster")),
    updateMember: () => Promise.reject(new Error("membership changes need a cluster")),
    selfStats: () => ({ name: self.name, id: self.id, state: "StateLeader", startTime }),
    leaderStats: () => ({ leader: self.id, followers: {} }),
  };
  return { deps, store, close: () => clearInterval(timer) };
}
