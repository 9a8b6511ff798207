// A v2 write as it travels through Raft (etcd's v2 Request fields that the apply path reads),
// and the dispatch etcd's applierV2store does: which store operation a method and its
// preconditions select. Every time in it was fixed by the proposer, so applying it is pure.
import { V2Error, type V2ErrorJSON } from "./errors.ts";
import type { V2Event } from "./event.ts";
import type { ExpireOptions, V2Store } from "./store.ts";

export interface V2Request {
  method: "PUT" | "POST" | "DELETE" | "QGET" | "SYNC";
  path: string;
  value?: string;
  dir?: boolean;
  prevValue?: string;
  prevIndex?: number;
  /** undefined = not given (plain set); false = create only; true = update only. */
  prevExist?: boolean;
  recursive?: boolean;
  sorted?: boolean;
  refresh?: boolean;
  /** Absolute expiry (ms since the epoch) computed by the proposer from ttl; 0/absent = none. */
  expiration?: number;
  /** SYNC: the leader's clock when it proposed the expiry. */
  time?: number;
  /**
   * Applies to the v2 auth records (etcd's `/2` subtree: users, roles, the enabled flag) instead
   * of the keys (etcd's `/1`): a member keeps them in a store of their own, out of every key's
   * reach.
   */
  auth?: boolean;
}

/** An applied request's outcome: the event, or the v2 error (as JSON, to cross the wait). */
export interface V2Result {
  event?: V2Event;
  error?: V2ErrorJSON;
}

export function applyV2Request(store: V2Store, r: V2Request): V2Result {
  try {
    return { event: dispatch(store, r) };
  } catch (err) {
    if (err instanceof V2Error) return { error: err.toJSON() };
    throw err;
  }
}

function dispatch(store: V2Store, r: V2Request): V2Event | undefined {
  const ttl: ExpireOptions = { expireTime: r.expiration || undefined, refresh: r.refresh };
  const value = r.value ?? "";
  const prevValue = r.prevValue ?? "";
  const prevIndex = r.prevIndex ?? 0;
  switch (r.method) {
    case "PUT":
      if (r.prevExist === true) {
        if (prevIndex === 0 && prevValue === "") return store.update(r.path, value, ttl);
        return store.compareAndSwap(r.path, prevValue, prevIndex, value, ttl);
      }
      if (r.prevExist === false) return store.create(r.path, !!r.dir, value, false, ttl);
      if (prevIndex > 0 || prevValue !== "") {
        return store.compareAndSwap(r.path, prevValue, prevIndex, value, ttl);
      }
      return store.set(r.path, !!r.dir, value, ttl);
    case "POST":
      return store.create(r.path, !!r.dir, value, true, ttl);
    case "DELETE":
      if (prevIndex > 0 || prevValue !== "") {
        return store.compareAndDelete(r.path, prevValue, prevIndex);
      }
      return store.delete(r.path, !!r.dir, !!r.recursive);
    case "QGET":
      return store.get(r.path, !!r.recursive, !!r.sorted);
    case "SYNC":
      store.expire(r.time ?? 0);
      return undefined;
  }
}
