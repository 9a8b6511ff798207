// etcd's v2 store as a deterministic state machine: the key tree, its own index (advanced by
// every write, X-Etcd-Index), the event history and watchers, and the stats counters. Time
// enters only through the values an operation carries (expiry times computed by the proposer,
// `now` of an expire entry); the injected clock only renders remaining TTLs in answers.
import { ErrorCode, V2Error } from "./errors.ts";
import { type Action, eventIndex, type V2Event } from "./event.ts";
import { EventHistory } from "./history.ts";
import {
  addExpiry,
  baseName,
  cleanPath,
  isDir,
  loadForGet,
  type NodeExtern,
  type NodeRecord,
  repr,
  toRecord,
  type TreeNode,
} from "./node.ts";
import { type Counter, newStats, type StoreStats } from "./stats.ts";
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
  #root: TreeNode = newRoot();
  #history = new EventHistory();
  #hub = new WatcherHub(this.#history);
  #stats = newStats();
  readonly #ttlNodes = new Set<TreeNode>();
  #dirty = new Set<string>();
  #newEvents: V2Event[] = [];
  #evicted: number[] = [];

  constructor(readonly clock: () => number = Date.now) {}

  // --- reads ---

  get(path: string, recursive = false, sorted = false): V2Event {
    path = cleanPath(path);
    try {
      const n = this.#internalGet(path);
      const e: V2Event = {
        action: "get",
        node: loadForGet(n, recursive, sorted, this.clock()),
        etcdIndex: this.index,
      };
      this.#stats.getsSuccess++;
      return e;
    } catch (err) {
      this.#stats.getsFail++;
      throw err;
    }
  }

  /** A watcher for the first event at or after waitIndex (0 = the next write). */
  watch(key: string, recursive: boolean, stream: boolean, waitIndex: number): Watcher {
    key = cleanPath(key);
    const since = waitIndex === 0 ? this.index + 1 : waitIndex;
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
    return this.#ttlNodes.size > 0;
  }

  /** The earliest expiry time of any node, if some node has a TTL. */
  nextExpiry(): number | undefined {
    let min: number | undefined;
    for (const n of this.#ttlNodes) {
      if (min === undefined || n.expireTime! < min) min = n.expireTime;
    }
    return min;
  }

  // --- writes ---

  set(path: string, dir: boolean, value: string, opts: ExpireOptions = {}): V2Event {
    return this.#counted("setsSuccess", "setsFail", () => {
      path = cleanPath(path);
      let prev: TreeNode | undefined;
      try {
        prev = this.#internalGet(path);
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
      const n = this.#internalGet(path);
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
      const n = this.#internalGet(path);
      const next = this.index + 1;
      const node: NodeExtern = { key: path };
      if (isDir(n)) node.dir = true;
      node.modifiedIndex = next;
      node.createdIndex = n.createdIndex;
      const e: V2Event = {
        action: "delete",
        node,
        prevNode: repr(n, false, false, this.clock()),
        etcdIndex: next,
      };
      this.#remove(n, dir, recursive, (p) => this.#hub.notifyWatchers(e, p, true));
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
        node: { key: path, modifiedIndex: next, createdIndex: n.createdIndex },
        prevNode: repr(n, false, false, this.clock()),
        etcdIndex: next,
      };
      this.#remove(n, false, false, (p) => this.#hub.notifyWatchers(e, p, true));
      this.index = next;
      this.#publish(e, false);
      return e;
    });
  }

  /** Removes every node whose expiry is at or before `now`, one expire event each. */
  expire(now: number): V2Event[] {
    const due = [...this.#ttlNodes]
      .filter((n) => n.expireTime! <= now)
      .sort((a, b) => a.expireTime! - b.expireTime! || (a.path < b.path ? -1 : 1));
    const events: V2Event[] = [];
    for (const n of due) {
      if (!this.#ttlNodes.has(n)) continue; // went with an expired ancestor
      const index = ++this.index;
      const node: NodeExtern = { key: n.path };
      if (isDir(n)) node.dir = true;
      node.modifiedIndex = index;
      node.createdIndex = n.createdIndex;
      const e: V2Event = {
        action: "expire",
        node,
        prevNode: repr(n, false, false, now),
        etcdIndex: index,
      };
      this.#remove(n, true, true, (p) => this.#hub.notifyWatchers(e, p, true));
      this.#stats.expireCount++;
      this.#publish(e, false);
      events.push(e);
    }
    return events;
  }

  // --- persistence ---

  toJSON(): V2StoreJSON {
    const nodes: NodeRecord[] = [];
    const walk = (n: TreeNode) => {
      if (n !== this.#root) nodes.push(toRecord(n));
      n.children?.forEach(walk);
    };
    walk(this.#root);
    return { index: this.index, stats: this.stats(), nodes, events: [...this.#history.events] };
  }

  /** Replaces the whole state; watchers stay and see later events. */
  restore(j: V2StoreJSON): void {
    this.index = j.index;
    this.#stats = { ...newStats(), ...j.stats, watchers: 0 };
    this.#root = newRoot();
    this.#ttlNodes.clear();
    // Parents are created no later than their children, and a directory lists its children
    // in the order they were added, which is createdIndex order.
    const nodes = [...j.nodes].sort((a, b) =>
      a.createdIndex - b.createdIndex || a.path.split("/").length - b.path.split("/").length
    );
    const byPath = new Map<string, TreeNode>([["/", this.#root]]);
    for (const r of nodes) {
      const parentPath = r.path.slice(0, r.path.lastIndexOf("/")) || "/";
      const parent = byPath.get(parentPath);
      if (!parent?.children) throw new Error(`v2 store: no parent directory for ${r.path}`);
      const n: TreeNode = {
        path: r.path,
        createdIndex: r.createdIndex,
        modifiedIndex: r.modifiedIndex,
        parent,
      };
      if (r.dir) n.children = new Map();
      else n.value = r.value ?? "";
      if (r.expireTime !== undefined) {
        n.expireTime = r.expireTime;
        this.#ttlNodes.add(n);
      }
      parent.children.set(baseName(r.path), n);
      byPath.set(r.path, n);
    }
    this.#history.events = [...j.events].sort((a, b) => eventIndex(a) - eventIndex(b));
    this.#dirty.clear();
    this.#newEvents = [];
    this.#evicted = [];
  }

  takeChanges(): V2Changes {
    const nodes: [string, NodeRecord | null][] = [...this.#dirty].map((p) => {
      const n = this.#lookup(p);
      return [p, n ? toRecord(n) : null];
    });
    const out = {
      index: this.index,
      stats: this.stats(),
      nodes,
      events: this.#newEvents,
      evicted: this.#evicted,
    };
    this.#dirty = new Set();
    this.#newEvents = [];
    this.#evicted = [];
    return out;
  }

  // --- internals ---

  #counted(ok: Counter, fail: Counter, f: () => V2Event): V2Event {
    try {
      const e = f();
      this.#stats[ok]++;
      return e;
    } catch (err) {
      this.#stats[fail]++;
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

  #lookup(path: string): TreeNode | undefined {
    let n: TreeNode | undefined = this.#root;
    for (const part of path.split("/").filter((s) => s !== "")) {
      n = n?.children?.get(part);
      if (!n) return undefined;
    }
    return n;
  }

  #internalGet(path: string): TreeNode {
    let n = this.#root;
    for (const part of path.split("/").filter((s) => s !== "")) {
      if (!n.children) throw new V2Error(ErrorCode.NotDir, n.path, this.index);
      const child = n.children.get(part);
      if (!child) throw new V2Error(ErrorCode.KeyNotFound, join(n.path, part), this.index);
      n = child;
    }
    return n;
  }

  /** Walks to a directory, creating missing ones at the next index (etcd's checkDir). */
  #walkCreate(dirPath: string): TreeNode {
    let n = this.#root;
    for (const part of dirPath.split("/").filter((s) => s !== "")) {
      let child = n.children!.get(part);
      if (!child) {
        child = {
          path: join(n.path, part),
          createdIndex: this.index + 1,
          modifiedIndex: this.index + 1,
          children: new Map(),
          parent: n,
        };
        n.children!.set(part, child);
        this.#dirty.add(child.path);
      } else if (!child.children) {
        throw new V2Error(ErrorCode.NotDir, child.path, this.index);
      }
      n = child;
    }
    return n;
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
      d = this.#walkCreate(path.slice(0, slash));
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
      this.#remove(existing, false, false);
    }
    const n: TreeNode = { path, createdIndex: next, modifiedIndex: next, parent: d };
    if (dir) n.children = new Map();
    else n.value = value;
    this.#setExpiry(n, expireTime);
    d.children!.set(name, n);
    this.#dirty.add(path);
    this.index = next;
    const e: V2Event = { action, node: this.#writtenNode(n, next), etcdIndex: next };
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
    this.#setExpiry(n, opts.expireTime);
    this.#dirty.add(n.path);
    const e: V2Event = { action, node: this.#writtenNode(n, next), prevNode, etcdIndex: next };
    this.index = next;
    this.#publish(e, opts.refresh);
    return e;
  }

  /** The event node of a write: key, value or dir, expiry, indexes (etcd's field order). */
  #writtenNode(n: TreeNode, modifiedIndex: number): NodeExtern {
    const e: NodeExtern = { key: n.path };
    if (isDir(n)) e.dir = true;
    else e.value = n.value;
    addExpiry(e, n, this.clock());
    e.modifiedIndex = modifiedIndex;
    e.createdIndex = n.createdIndex;
    return e;
  }

  #setExpiry(n: TreeNode, expireTime: number | undefined): void {
    if (expireTime === undefined || expireTime === 0) {
      delete n.expireTime;
      this.#ttlNodes.delete(n);
    } else {
      n.expireTime = expireTime;
      this.#ttlNodes.add(n);
    }
  }

  #compare(path: string, prevValue: string, prevIndex: number): TreeNode {
    const n = this.#internalGet(path);
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

  /** etcd's node.Remove: files always; directories only with dir, non-empty ones recursive. */
  #remove(n: TreeNode, dir: boolean, recursive: boolean, onRemoved?: (path: string) => void) {
    if (isDir(n)) {
      if (!dir) throw new V2Error(ErrorCode.NotFile, n.path, this.index);
      if (n.children!.size > 0 && !recursive) {
        throw new V2Error(ErrorCode.DirNotEmpty, n.path, this.index);
      }
      for (const child of [...n.children!.values()]) this.#remove(child, true, true, onRemoved);
    }
    const parent = n.parent;
    if (parent?.children?.get(baseName(n.path)) === n) {
      parent.children.delete(baseName(n.path));
      this.#dirty.add(n.path);
      onRemoved?.(n.path);
    }
    this.#ttlNodes.delete(n);
  }
}

function newRoot(): TreeNode {
  return { path: "/", createdIndex: 0, modifiedIndex: 0, children: new Map() };
}

function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}
