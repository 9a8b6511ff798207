// --experimental-enable-v2v3 <prefix>: the v2 API served from the v3 store, as etcd 3.4's v2v3
// server does. The keys (etcd's "/1") and the v2 auth records ("/2") live as v3 keys under the
// prefix, written through the member's own v3 txns and watched through its watcher hub, so v3
// clients see them (etcdctl get --prefix <prefix>). Like etcd's, the answers carry the placeholder
// cluster ID e7cd2f00d and raft index and term 0, and /v2/stats answers nothing.
import type { WatcherHub } from "../../mvcc/mod.ts";
import { cleanPath, V2Error, type V2Event, type V2Request } from "../../v2store/mod.ts";
import type { V2Deps, V2KeyStore } from "./deps.ts";
import { AUTH_ROOT, KEYS_ROOT, trimNode, V2V3_CLUSTER_ID } from "./v2v3_layout.ts";
import { V2v3Store, type V3Kv } from "./v2v3_store.ts";
import { watchV2v3 } from "./v2v3_watch.ts";

export interface V3Access {
  kv: V3Kv;
  watchers: WatcherHub;
}

/** `base` (a member's v2 deps) with the keys, auth records and identity of etcd's v2v3. */
export function v2v3Deps(base: V2Deps, v3: V3Access, prefix: string): V2Deps {
  const store = new V2v3Store(v3.kv, prefix);
  return {
    ...base,
    store: keyStore(store, v3.watchers, KEYS_ROOT),
    authStore: keyStore(store, v3.watchers, AUTH_ROOT),
    apply: (req) => {
      const root = req.auth ? AUTH_ROOT : KEYS_ROOT;
      return apply(store, req, root).then(
        (event) => ({ event: trimEvent(event, root) }),
        (err) => ({ error: trimError(err, root).toJSON() }),
      );
    },
    clusterId: () => V2V3_CLUSTER_ID,
    raft: () => ({ index: 0, term: 0 }),
    selfStats: () => undefined,
    leaderStats: () => undefined,
  };
}

/** A v2 path in the subtree `root`, as etcd's handler joins it ("/foo" -> "/1/foo"). */
const rooted = (root: string, path: string) => cleanPath(`${root}/${path}`);

function keyStore(store: V2v3Store, watchers: WatcherHub, root: string): V2KeyStore {
  return {
    get: async (path, recursive = false) => {
      try {
        return trimEvent(await store.get(rooted(root, path), recursive), root);
      } catch (err) {
        throw trimError(err, root);
      }
    },
    watch: async (path, recursive, stream, sinceIndex) => {
      const opts = { recursive, stream, sinceIndex };
      const w = await watchV2v3(watchers, store.layout, rooted(root, path), opts);
      return {
        startIndex: w.startIndex,
        next: async () => {
          const e = await w.next();
          return e && trimEvent(e, root);
        },
        remove: () => w.remove(),
      };
    },
    stats: () => undefined,
  };
}

// etcd's applierV2store: which store operation a v2 request's method and conditions select.
function apply(store: V2v3Store, r: V2Request, root: string): Promise<V2Event> {
  const path = rooted(root, r.path);
  const ttl = { expireTime: r.expiration, refresh: r.refresh };
  const value = r.value ?? "";
  const prevValue = r.prevValue ?? "";
  const prevIndex = r.prevIndex ?? 0;
  const compares = prevIndex > 0 || prevValue !== "";
  switch (r.method) {
    case "PUT":
      if (r.prevExist === true) {
        if (!compares) return store.update(path, value, ttl);
        return store.compareAndSwap(path, prevValue, prevIndex, value, ttl);
      }
      if (r.prevExist === false) return store.create(path, !!r.dir, value, false, ttl);
      if (compares) return store.compareAndSwap(path, prevValue, prevIndex, value, ttl);
      return store.set(path, !!r.dir, value, ttl);
    case "POST":
      return store.create(path, !!r.dir, value, true, ttl);
    case "DELETE":
      if (compares) return store.compareAndDelete(path, prevValue, prevIndex);
      return store.delete(path, !!r.dir, !!r.recursive);
    case "QGET":
      return store.get(path, !!r.recursive);
    case "SYNC":
      // The leader's TTL expiry entries: v2v3 has no TTLs, and its writes are not entries.
      return Promise.reject(new Error("SYNC is not a v2v3 request"));
  }
}

function trimEvent(e: V2Event, root: string): V2Event {
  const out: V2Event = { action: e.action, etcdIndex: e.etcdIndex };
  if (e.node) out.node = trimNode(e.node, root);
  if (e.prevNode) out.prevNode = trimNode(e.prevNode, root);
  return out;
}

// etcd's v2 handler takes the subtree off an error's cause, as off every key it answers.
// Anything else (TTLs refused, a v3 error) stays as it is: a Raft Internal Error with its text.
function trimError(err: unknown, root: string): V2Error {
  if (!(err instanceof V2Error)) throw err;
  if (!err.cause.startsWith(root)) return err;
  return new V2Error(err.errorCode, err.cause.slice(root.length), err.index);
}
