// etcd 3.4's v2v3 store (etcdserver/api/v2v3/store.go): the v2 key operations run as v3 txns
// under a prefix (see v2v3_layout.ts), with its limitations: TTLs are refused ("TTLs are
// unsupported"), hidden keys are listed, and its error codes are kept where they differ from
// the v2 store's (an update of a missing key is "Not a file", a recursive delete of a missing
// directory "Key already exists"). Node paths here carry the subtree ("/1/foo").
import { type KeyValue, prefixEnd } from "../../mvcc/mod.ts";
import { Compare_CompareResult as Result, Compare_CompareTarget as Target } from "../../pb/mod.ts";
import type { KvApi } from "../../server/mod.ts";
import { ErrorCode, type NodeExtern, V2Error, type V2Event } from "../../v2store/mod.ts";
import { runStm, type Stm } from "./v2v3_stm.ts";
import {
  bytes,
  dirOf,
  isRoot,
  MAX_PATH_DEPTH,
  node,
  text,
  v2Index,
  V2v3Layout,
  v3Revision,
} from "./v2v3_layout.ts";

export type V3Kv = Pick<KvApi, "range" | "txn">;
type TxnRequest = Parameters<KvApi["txn"]>[0];
type TxnResponse = Awaited<ReturnType<KvApi["txn"]>>;
type Compare = NonNullable<TxnRequest["compare"]>[number];
type RequestOp = NonNullable<TxnRequest["success"]>[number];

/** A write's TTL options, which v2v3 refuses. */
export interface TtlOptions {
  expireTime?: number;
  refresh?: boolean;
}

/** The plain error etcd's v2 handler reports as a Raft Internal Error with this cause. */
const unsupported = () => new Error("TTLs are unsupported");
const hasTtl = (o: TtlOptions) => o.refresh === true || (o.expireTime ?? 0) !== 0;

const get = (key: string): RequestOp => ({ requestRange: { key: bytes(key) } });
const put = (key: string, value: string, prevKv = false): RequestOp => ({
  requestPut: { key: bytes(key), value: bytes(value), prevKv },
});
const del = (key: string, prefix = false): RequestOp => ({
  requestDeleteRange: {
    key: bytes(key),
    rangeEnd: prefix ? prefixEnd(bytes(key)) : undefined,
    prevKv: !prefix,
  },
});
function version(key: string, result: Result, v: number, prefix = false): Compare {
  const k = bytes(key);
  return {
    key: k,
    target: Target.VERSION,
    result,
    version: v,
    rangeEnd: prefix ? prefixEnd(k) : undefined,
  };
}

export class V2v3Store {
  readonly layout: V2v3Layout;

  constructor(readonly kv: V3Kv, prefix: string, readonly now: () => Date = () => new Date()) {
    this.layout = new V2v3Layout(prefix);
  }

  async get(nodePath: string, recursive: boolean): Promise<V2Event> {
    const key = this.layout.key(nodePath);
    const resp = await this.kv.txn({ success: [get(key + "/"), get(key)] });
    const rev = resp.header.revision;
    const dirKvs = resp.responses[0].responseRange!.kvs;
    if (dirKvs.length > 0 || isRoot(nodePath)) {
      const d = dirKvs[0];
      return {
        action: "get",
        node: node({
          key: nodePath,
          dir: true,
          nodes: await this.#dir(nodePath, recursive, rev),
          modifiedIndex: d ? v2Index(d.modRevision) : 0,
          createdIndex: d ? v2Index(d.createRevision) : 0,
        }),
        etcdIndex: v2Index(rev),
      };
    }
    const kvs = resp.responses[1].responseRange!.kvs;
    if (kvs.length === 0) throw new V2Error(ErrorCode.KeyNotFound, nodePath, v2Index(rev));
    return { action: "get", node: this.layout.node(kvs[0]), etcdIndex: v2Index(rev) };
  }

  // A directory's children, level by level, each attached to its parent (etcd's breadth walk).
  // Each level is one prefix range, so it comes in key order: "sorted" changes nothing.
  async #dir(nodePath: string, recursive: boolean, rev: number): Promise<NodeExtern[]> {
    const top = await this.#level(nodePath, 1, rev);
    if (!recursive) return top;
    const seen = new Map<string, NodeExtern>();
    let next = top;
    for (let depth = 2; next.length > 0; depth++) {
      for (const n of next) {
        seen.set(n.key!, n);
        const parent = seen.get(dirOf(n.key!));
        if (parent) (parent.nodes ??= []).push(n);
      }
      next = await this.#level(nodePath, depth, rev);
    }
    return top;
  }

  async #level(nodePath: string, depth: number, rev: number): Promise<NodeExtern[]> {
    const key = bytes(this.layout.key(nodePath, depth));
    const resp = await this.kv.range({ key, rangeEnd: prefixEnd(key), revision: rev });
    return resp.kvs.map((kv) => this.layout.node(kv)!);
  }

  async set(nodePath: string, dir: boolean, value: string, ttl: TtlOptions): Promise<V2Event> {
    if (hasTtl(ttl)) throw unsupported();
    if (isRoot(nodePath)) throw new V2Error(ErrorCode.RootReadOnly, nodePath, 0);
    const { resp, code } = await runStm(this.kv, async (stm) => {
      const missing = await this.#parents(stm, nodePath);
      if (typeof missing === "number") return missing;
      for (const d of missing) stm.put(d, "");
      let key = this.layout.key(nodePath);
      if (dir) {
        if (await stm.rev(key) !== 0) return ErrorCode.NotDir;
        key += "/";
      } else if (await stm.rev(key + "/") !== 0) {
        return ErrorCode.NotFile;
      }
      stm.put(key, value, true);
      stm.put(this.layout.actionKey, "set");
    });
    const rev = resp.header.revision;
    if (code !== undefined) throw new V2Error(code, nodePath, v2Index(rev));
    const prev = prevFromPuts(resp);
    return this.#written("set", nodePath, dir ? undefined : value, rev, prev);
  }

  /** A set's or a create's answer: the node (a file's value, or a directory) and what it replaced. */
  #written(
    action: "set" | "create",
    nodePath: string,
    value: string | undefined,
    rev: number,
    prev?: KeyValue,
  ): V2Event {
    const createdIndex = v2Index(prev?.createRevision ?? rev);
    const e: V2Event = {
      action,
      node: node({
        key: nodePath,
        value,
        dir: value === undefined,
        modifiedIndex: v2Index(rev),
        createdIndex,
      }),
      etcdIndex: v2Index(rev),
    };
    if (prev) e.prevNode = this.layout.node(prev);
    return e;
  }

  /** The directory keys to create above a node, or NotDir when a file is in the way. */
  async #parents(stm: Stm, nodePath: string): Promise<string[] | number> {
    const dirs: string[] = [];
    for (let p = dirOf(nodePath); !isRoot(p); p = dirOf(p)) {
      const key = this.layout.key(p);
      if (await stm.rev(key) > 0) return ErrorCode.NotDir;
      if (await stm.rev(key + "/") === 0) dirs.push(key + "/");
    }
    return dirs;
  }

  async update(nodePath: string, value: string, ttl: TtlOptions): Promise<V2Event> {
    if (isRoot(nodePath)) throw new V2Error(ErrorCode.RootReadOnly, nodePath, 0);
    if (hasTtl(ttl)) throw unsupported();
    const key = this.layout.key(nodePath);
    const { resp, code } = await runStm(this.kv, async (stm) => {
      if (await stm.rev(key + "/") !== 0) return ErrorCode.NotFile;
      if (await stm.rev(key) === 0) return ErrorCode.KeyNotFound;
      stm.put(key, value, true);
      stm.put(this.layout.actionKey, "update");
    });
    const rev = resp.header.revision;
    // etcd answers every refusal here as "Not a file", a missing key included.
    if (code !== undefined) throw new V2Error(ErrorCode.NotFile, nodePath, v2Index(rev));
    return this.#replaced("update", nodePath, value, prevFromPuts(resp)!, rev);
  }

  /** An update's or a compare-and-swap's answer: the new value over the `prev` it replaced. */
  #replaced(
    action: "update" | "compareAndSwap",
    nodePath: string,
    value: string,
    prev: KeyValue,
    rev: number,
  ): V2Event {
    const createdIndex = v2Index(prev.createRevision);
    return {
      action,
      node: node({ key: nodePath, value, modifiedIndex: v2Index(rev), createdIndex }),
      prevNode: this.layout.node(prev),
      etcdIndex: v2Index(rev),
    };
  }

  async create(
    nodePath: string,
    dir: boolean,
    value: string,
    unique: boolean,
    ttl: TtlOptions,
  ): Promise<V2Event> {
    if (isRoot(nodePath)) throw new V2Error(ErrorCode.RootReadOnly, nodePath, 0);
    if (hasTtl(ttl)) throw unsupported();
    const { resp, code } = await runStm(this.kv, async (stm) => {
      let key = this.layout.key(nodePath);
      // An in-order key is named after the clock; the answer still names the directory.
      while (unique) {
        key = this.layout.key(`${nodePath}/${goTimeString(this.now())}`);
        if (await stm.rev(key) === 0) break;
      }
      if (await stm.rev(key) > 0 || await stm.rev(key + "/") > 0) return ErrorCode.NodeExist;
      const missing = await this.#parents(stm, nodePath);
      if (typeof missing === "number") return missing;
      for (const d of missing) stm.put(d, "");
      stm.put(dir ? key + "/" : key, value);
      stm.put(this.layout.actionKey, "create");
    });
    const rev = resp.header.revision;
    if (code !== undefined) throw new V2Error(code, nodePath, v2Index(rev));
    return this.#written("create", nodePath, dir ? undefined : value, rev);
  }

  async compareAndSwap(
    nodePath: string,
    prevValue: string,
    prevIndex: number,
    value: string,
    ttl: TtlOptions,
  ): Promise<V2Event> {
    if (isRoot(nodePath)) throw new V2Error(ErrorCode.RootReadOnly, nodePath, 0);
    if (hasTtl(ttl)) throw unsupported();
    const key = this.layout.key(nodePath);
    const resp = await this.kv.txn({
      compare: this.#compare(key, prevValue, prevIndex),
      success: [put(key, value, true), put(this.layout.actionKey, "compareAndSwap")],
      failure: [get(key), get(key + "/")],
    });
    if (!resp.succeeded) throw compareFailed(nodePath, prevValue, prevIndex, resp);
    const prev = resp.responses[0].responsePut!.prevKv!;
    return this.#replaced("compareAndSwap", nodePath, value, prev, resp.header.revision);
  }

  async compareAndDelete(nodePath: string, prevValue: string, prevIndex: number) {
    if (isRoot(nodePath)) throw new V2Error(ErrorCode.RootReadOnly, nodePath, 0);
    const key = this.layout.key(nodePath);
    const resp = await this.kv.txn({
      compare: this.#compare(key, prevValue, prevIndex),
      success: [del(key), put(this.layout.actionKey, "compareAndDelete")],
      failure: [get(key), get(key + "/")],
    });
    if (!resp.succeeded) throw compareFailed(nodePath, prevValue, prevIndex, resp);
    return this.#deleted("compareAndDelete", nodePath, resp);
  }

  #compare(key: string, prevValue: string, prevIndex: number): Compare[] {
    const k = bytes(key);
    const cmps = [version(key, Result.GREATER, 0)];
    if (prevIndex !== 0) {
      const modRevision = v3Revision(prevIndex);
      cmps.push({ key: k, target: Target.MOD, result: Result.EQUAL, modRevision });
    }
    if (prevValue !== "") {
      cmps.push({ key: k, target: Target.VALUE, result: Result.EQUAL, value: bytes(prevValue) });
    }
    return cmps;
  }

  async delete(nodePath: string, dir: boolean, recursive: boolean): Promise<V2Event> {
    if (isRoot(nodePath)) throw new V2Error(ErrorCode.RootReadOnly, nodePath, 0);
    if (!dir && !recursive) return await this.#deleteNode(nodePath);
    if (!recursive) return await this.#deleteEmptyDir(nodePath);
    const dels = [del(this.layout.key(nodePath) + "/")];
    for (let i = 1; i < MAX_PATH_DEPTH; i++) dels.push(del(this.layout.key(nodePath, i), true));
    const resp = await this.kv.txn({
      compare: [
        version(this.layout.key(nodePath) + "/", Result.GREATER, 0),
        version(this.layout.key(nodePath, MAX_PATH_DEPTH) + "/", Result.EQUAL, 0),
      ],
      success: [...dels, put(this.layout.actionKey, "delete")],
    });
    const rev = resp.header.revision;
    if (!resp.succeeded) throw new V2Error(ErrorCode.NodeExist, nodePath, v2Index(rev));
    const prev = resp.responses[0].responseDeleteRange!.prevKvs[0];
    return { action: "delete", prevNode: this.layout.node(prev), etcdIndex: v2Index(rev) };
  }

  async #deleteEmptyDir(nodePath: string): Promise<V2Event> {
    const resp = await this.kv.txn({
      compare: [version(this.layout.key(nodePath, 1), Result.EQUAL, 0, true)],
      success: [del(this.layout.key(nodePath) + "/"), put(this.layout.actionKey, "delete")],
    });
    const rev = resp.header.revision;
    if (!resp.succeeded) throw new V2Error(ErrorCode.DirNotEmpty, nodePath, v2Index(rev));
    const prev = resp.responses[0].responseDeleteRange!.prevKvs[0];
    // The action key was written all the same: the index moved on.
    if (!prev) throw new V2Error(ErrorCode.NodeExist, nodePath, v2Index(rev));
    return { action: "delete", prevNode: this.layout.node(prev), etcdIndex: v2Index(rev) };
  }

  async #deleteNode(nodePath: string): Promise<V2Event> {
    const key = this.layout.key(nodePath);
    const resp = await this.kv.txn({
      compare: [version(key + "/", Result.EQUAL, 0)],
      success: [del(key), put(this.layout.actionKey, "delete")],
    });
    const rev = resp.header.revision;
    if (!resp.succeeded) throw new V2Error(ErrorCode.NotFile, nodePath, v2Index(rev));
    if (resp.responses[0].responseDeleteRange!.prevKvs.length === 0) {
      throw new V2Error(ErrorCode.KeyNotFound, nodePath, v2Index(rev));
    }
    return this.#deleted("delete", nodePath, resp);
  }

  #deleted(action: "delete" | "compareAndDelete", nodePath: string, resp: TxnResponse): V2Event {
    const prev = resp.responses[0].responseDeleteRange!.prevKvs[0];
    const rev = resp.header.revision;
    return {
      action,
      node: node({
        key: nodePath,
        modifiedIndex: v2Index(rev),
        createdIndex: v2Index(prev.createRevision),
      }),
      prevNode: this.layout.node(prev),
      etcdIndex: v2Index(rev),
    };
  }
}

/** The previous value of the node a set or update replaced (the put asked for it). */
function prevFromPuts(resp: TxnResponse) {
  for (const r of resp.responses) {
    const prev = r.responsePut?.prevKv;
    if (prev && prev.createRevision > 0) return prev;
  }
}

// etcd's compareFail: which condition failed, with the stored mod revision as it is (not as a
// v2 index) in the cause.
function compareFailed(
  nodePath: string,
  prevValue: string,
  prevIndex: number,
  resp: TxnResponse,
): V2Error {
  const index = v2Index(resp.header.revision);
  if (resp.responses[1].responseRange!.kvs.length > 0) {
    return new V2Error(ErrorCode.NotFile, nodePath, index);
  }
  const kv = resp.responses[0].responseRange!.kvs[0];
  if (!kv) return new V2Error(ErrorCode.KeyNotFound, nodePath, index);
  const value = text(kv.value);
  const indexMatch = prevIndex === 0 || kv.modRevision === prevIndex;
  const valueMatch = prevValue === "" || value === prevValue;
  const cause = indexMatch && !valueMatch
    ? `[${prevValue} != ${value}]`
    : valueMatch && !indexMatch
    ? `[${prevIndex} != ${kv.modRevision}]`
    : `[${prevValue} != ${value}] [${prevIndex} != ${kv.modRevision}]`;
  return new V2Error(ErrorCode.TestFailed, cause, index);
}

const start = performance.now();
const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/**
 * Go's time.Time.String() of the clock (UTC), monotonic reading included, as etcd names an
 * in-order key: "2006-01-02 15:04:05.999999999 +0000 UTC m=+1.000000001".
 */
export function goTimeString(d: Date): string {
  const frac = String(d.getUTCMilliseconds() * 1e6).padStart(9, "0").replace(/0+$/, "");
  const clock = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    (frac ? `.${frac}` : "");
  const ns = Math.round((performance.now() - start) * 1e6);
  return `${clock} +0000 UTC m=+${Math.floor(ns / 1e9)}.${pad(ns % 1e9, 9)}`;
}
