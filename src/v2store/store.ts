// etcd's v2 store as a deterministic state machine: the operations (get, set, create, update,
// compare-and-swap, delete, expire) over the key tree (tree.ts), its own index (advanced by
// every write, X-Etcd-Index), the event history and watchers, the stats counters, and what the
// persisted copy needs. Time enters only through the values an operation carries (expiry times
// computed by the proposer, `now` of an expire entry); the injected clock only renders
// remaining TTLs in answers.
import { reportV2Read, reportV2Write, v2StoreMetrics } from "../metrics/mod.ts";
import { ErrorCode, V2Error } from "./errors.ts";
import { type Action, eventIndex, type V2Event } from "./event.ts";
import { EventHistory } from "./history.ts";
import {
  cleanPath,
  isDir,
  loadForGet,
  type NodeExtern,
  type NodeRecord,
  removedNode,
  repr,
  type TreeNode,
  writtenNode,
} from "./node.ts";
import { type Counter, newStats, type StoreStats } from "./stats.ts";
import { KeyTree } from "./tree.ts";
import { type Watcher, WatcherHub } from "./watcher.ts";

/** Expiry times before 2000 are treated as "no TTL" (etcd's minExpireTime). */
const MIN_EXPIRE_TIME = Date.UTC(2000, 0, 1);

export interface ExpireOptions {
  /** Absolute expiry (ms since the epoch); undefined or 0 = permanent. */
  expireTime?: number;
  /** Only push the expiry out: keep the value, wake no watcher. */
  refresh?: boolean;
}

/** The whole store as JSON: for snapshots and tests. */
export interface V2StoreJSON {
  index: number;
  stats: StoreStats;
  nodes: NodeRecord[];
  events: V2Event[];
}

/** What writes changed since the last takeChanges(): enough to update a persisted copy. */
export interface V2Changes {
  index: number;
  stats: StoreStats;
  /** Changed paths with their node now, or null when the node is gone. */
  nodes: [string, NodeRecord | null][];
  events: V2Event[];
  /** Indexes of events that left the history window. */
  evicted: number[];
}

export class V2Store {
  index = 0;
  readonly #tree = new KeyTree(() => this.index);
  #history = new EventHistory();
  #hub = new WatcherHub(this.#history);
  #stats = newStats();
  #newEvents: V2Event[] = [];
  #evicted: number[] = [];

  constructor(readonly clock: () => number = Date.now) {}

  // --- reads ---

  get(path: string, recursive = false, sorted = false): V2Event {
    path = cleanPath(path);
    try {
      const n = this.#tree.get(path);
      const e: V2Event = {
        action: "get",
        node: loadForGet(n, recursive, sorted, this.clock()),
        etcdIndex: this.index,
      };
      this.#stats.getsSuccess++;
      reportV2Read(recursive, true);
      return e;
    } catch (err) {
      this.#stats.getsFail++;
      reportV2Read(recursive, false);
      throw err;
    }
  }

  /** A watcher for the first event at or after waitIndex (0 = the next write). */
  watch(key: string, recursive: boolean, stream: boolean, waitIndex: number): Watcher {
    key = cleanPath(key);
    const since = waitIndex === 0 ? this.index + 1 : waitIndex;
    v2StoreMetrics.watchRequests.inc();
    try {
      return this.#hub.watch(key, recursive, stream, since, this.index);
    } catch (err) {
      if (err instanceof V2Error) err.index = this.index;
      throw err;
    }
  }

  stats(): StoreStats {
    return { ...this.#stats, watchers: this.#hub.count };
  }

  hasTTLKeys(): boolean {
    return this.#tree.hasTTLNodes();
  }

  /** The earliest expiry time of any node, if some node has a TTL. */
  nextExpiry(): number | undefined {
    return this.#tree.nextExpiry();
  }

  // --- writes ---

  set(path: string, dir: boolean, value: string, opts: ExpireOptions = {}): V2Event {
    return this.#counted("setsSuccess", "setsFail", () => {
      path = cleanPath(path);
      let prev: TreeNode | undefined;
      try {
        prev = this.#tree.get(path);
      } catch (err) {
        if (!(err instanceof V2Error) || err.errorCode !== ErrorCode.KeyNotFound) throw err;
        if (opts.refresh) throw err;
      }
      if (opts.refresh) value = prev!.value ?? "";
      const e = this.#internalCreate(path, dir, value, false, true, opts.expireTime, "set");
      e.etcdIndex = this.index;
      if (prev) e.prevNode = loadForGet(prev, false, false, this.clock());
      this.#publish(e, opts.refresh);
      return e;
    });
  }

  create(
    path: string,
    dir: boolean,
    value: string,
    unique: boolean,
    opts: ExpireOptions = {},
  ): V2Event {
    return this.#counted("createSuccess", "createFail", () => {
      const e = this.#internalCreate(path, dir, value, unique, false, opts.expireTime, "create");
      e.etcdIndex = this.index;
      this.#publish(e, false);
      return e;
    });
  }

  update(path: string, value: string, opts: ExpireOptions = {}): V2Event {
    return this.#counted("updateSuccess", "updateFail", () => {
      path = cleanPath(path);
      if (path === "/") throw new V2Error(ErrorCode.RootReadOnly, "/", this.index);
      const next = this.index + 1;
      const n = this.#tree.get(path);
      if (isDir(n) && value.length !== 0) {
        throw new V2Error(ErrorCode.NotFile, path, this.index);
      }
      if (opts.refresh) value = n.value ?? "";
      const prevNode = repr(n, false, false, this.clock());
      // etcd leaves a directory's modifiedIndex alone; the event still reports the new index.
      if (!isDir(n)) {
        n.value = value;
        n.modifiedIndex = next;
      }
      return this.#changedInPlace(n, "update", prevNode, next, opts);
    });
  }

  compareAndSwap(
    path: string,
    prevValue: string,
    prevIndex: number,
    value: string,
    opts: ExpireOptions = {},
  ): V2Event {
    return this.#counted("compareAndSwapSuccess", "compareAndSwapFail", () => {
      path = cleanPath(path);
      if (path === "/") throw new V2Error(ErrorCode.RootReadOnly, "/", this.index);
      const n = this.#compare(path, prevValue, prevIndex);
      if (opts.refresh) value = n.value ?? "";
      const next = this.index + 1;
      const prevNode = repr(n, false, false, this.clock());
      n.value = value;
      n.modifiedIndex = next;
      return this.#changedInPlace(n, "compareAndSwap", prevNode, next, opts);
    });
  }

  delete(path: string, dir: boolean, recursive: boolean): V2Event {
    return this.#counted("deleteSuccess", "deleteFail", () => {
      path = cleanPath(path);
      if (path === "/") throw new V2Error(ErrorCode.RootReadOnly, "/", this.index);
      if (recursive) dir = true;
      const n = this.#tree.get(path);
      const next = this.index + 1;
      const e: V2Event = {
        action: "delete",
        node: removedNode(n, next),
        prevNode: repr(n, false, false, this.clock()),
        etcdIndex: next,
      };
      this.#tree.remove(n, dir, recursive, (p) => this.#hub.notifyWatchers(e, p, true));
      this.index = next;
      this.#publish(e, false);
      return e;
    });
  }

  compareAndDelete(path: string, prevValue: string, prevIndex: number): V2Event {
    return this.#counted("compareAndDeleteSuccess", "compareAndDeleteFail", () => {
      path = cleanPath(path);
      const n = this.#compare(path, prevValue, prevIndex);
      const next = this.index + 1;
      const e: V2Event = {
        action: "compareAndDelete",
        node: removedNode(n, next),
        prevNode: repr(n, false, false, this.clock()),
        etcdIndex: next,
      };
      this.#tree.remove(n, false, false, (p) => this.#hub.notifyWatchers(e, p, true));
      this.index = next;
      this.#publish(e, false);
      return e;
    });
  }

  /** Removes every node whose expiry is at or before `now`, one expire event each. */
  expire(now: number): V2Event[] {
    const events: V2Event[] = [];
    for (const n of this.#tree.expiredBy(now)) {
      if (!this.#tree.hasTTL(n)) continue; // went with an expired ancestor
      const index = ++this.index;
      const e: V2Event = {
        action: "expire",
        node: removedNode(n, index),
        prevNode: repr(n, false, false, now),
        etcdIndex: index,
      };
      this.#tree.remove(n, true, true, (p) => this.#hub.notifyWatchers(e, p, true));
      this.#stats.expireCount++;
      v2StoreMetrics.expires.inc();
      this.#publish(e, false);
      events.push(e);
    }
    return events;
  }

  // --- persistence ---

  toJSON(): V2StoreJSON {
    const nodes = this.#tree.records();
    return { index: this.index, stats: this.stats(), nodes, events: [...this.#history.events] };
  }

  /** Replaces the whole state; watchers stay and see later events. */
  restore(j: V2StoreJSON): void {
    this.index = j.index;
    this.#stats = { ...newStats(), ...j.stats, watchers: 0 };
    this.#tree.load(j.nodes);
    this.#history.events = [...j.events].sort((a, b) => eventIndex(a) - eventIndex(b));
    this.#newEvents = [];
    this.#evicted = [];
  }

  takeChanges(): V2Changes {
    const out = {
      index: this.index,
      stats: this.stats(),
      nodes: this.#tree.takeChanged(),
      events: this.#newEvents,
      evicted: this.#evicted,
    };
    this.#newEvents = [];
    this.#evicted = [];
    return out;
  }

  // --- internals ---

  #counted(ok: Counter, fail: Counter, f: () => V2Event): V2Event {
    const action = ok.replace(/s?Success$/, ""); // setsSuccess -> "set", etcd's action name
    try {
      const e = f();
      this.#stats[ok]++;
      reportV2Write(action, true);
      return e;
    } catch (err) {
      this.#stats[fail]++;
      reportV2Write(action, false);
      throw err;
    }
  }

  /** Records the event in the history; a refresh wakes no watcher. */
  #publish(e: V2Event, refresh: boolean | undefined): void {
    if (refresh) e.refresh = true;
    for (const old of this.#history.add(e)) this.#evicted.push(eventIndex(old));
    this.#newEvents.push(e);
    if (!refresh) this.#hub.notify(e);
  }

  #internalCreate(
    path: string,
    dir: boolean,
    value: string,
    unique: boolean,
    replace: boolean,
    expireTime: number | undefined,
    action: "set" | "create",
  ): V2Event {
    const curr = this.index;
    const next = curr + 1;
    if (unique) path += "/" + String(next).padStart(20, "0");
    path = cleanPath(path);
    if (path === "/") throw new V2Error(ErrorCode.RootReadOnly, "/", curr);
    if (expireTime !== undefined && expireTime < MIN_EXPIRE_TIME) expireTime = undefined;
    const slash = path.lastIndexOf("/");
    let d: TreeNode;
    try {
      d = this.#tree.walkCreate(path.slice(0, slash), next);
    } catch (err) {
      this.#stats.setsFail++; // etcd counts a failed walk as a failed set, whatever the call
      throw err;
    }
    const name = path.slice(slash + 1);
    const existing = d.children!.get(name);
    let prevNode: NodeExtern | undefined;
    if (existing) {
      if (!replace) throw new V2Error(ErrorCode.NodeExist, path, curr);
      if (isDir(existing)) throw new V2Error(ErrorCode.NotFile, path, curr);
      prevNode = repr(existing, false, false, this.clock());
      this.#tree.remove(existing, false, false);
    }
    const n: TreeNode = { path, createdIndex: next, modifiedIndex: next, parent: d };
    if (dir) n.children = new Map();
    else n.value = value;
    this.#tree.setExpiry(n, expireTime);
    this.#tree.insert(d, name, n);
    this.index = next;
    const e: V2Event = { action, node: writtenNode(n, next, this.clock()), etcdIndex: next };
    if (prevNode) e.prevNode = prevNode;
    return e;
  }

  /** Finishes a change to an existing node (update, compareAndSwap): its new expiry, the
   * event with the node before and after, the index advanced, watchers told. */
  #changedInPlace(
    n: TreeNode,
    action: Action,
    prevNode: NodeExtern,
    next: number,
    opts: ExpireOptions,
  ): V2Event {
    this.#tree.setExpiry(n, opts.expireTime);
    this.#tree.changed(n);
    const e: V2Event = {
      action,
      node: writtenNode(n, next, this.clock()),
      prevNode,
      etcdIndex: next,
    };
    this.index = next;
    this.#publish(e, opts.refresh);
    return e;
  }

  #compare(path: string, prevValue: string, prevIndex: number): TreeNode {
    const n = this.#tree.get(path);
    if (isDir(n)) throw new V2Error(ErrorCode.NotFile, path, this.index);
    const indexOk = prevIndex === 0 || n.modifiedIndex === prevIndex;
    const valueOk = prevValue === "" || n.value === prevValue;
    if (indexOk && valueOk) return n;
    const cause = !valueOk && indexOk
      ? `[${prevValue} != ${n.value}]`
      : valueOk
      ? `[${prevIndex} != ${n.modifiedIndex}]`
      : `[${prevValue} != ${n.value}] [${prevIndex} != ${n.modifiedIndex}]`;
    throw new V2Error(ErrorCode.TestFailed, cause, this.index);
  }
}
