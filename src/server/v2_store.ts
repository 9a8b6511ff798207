// The member's v2 store, laid out as etcd's: "/0" holds the cluster (members' raft attributes
// and attributes, removed members, the cluster version), "/1" the keys of the v2 API, "/2" the
// v2 auth records. It is persisted node by node in a backend bucket, in the same batch
// transaction as the consistent index of the entry that changed it: a restart replays exactly
// the entries after it, and a snapshot of the backend carries it. Raft snapshots carry it as
// etcd's store.Save() JSON.
import {
  applyV2Request,
  newStats,
  type NodeExtern,
  type NodeRecord,
  type V2Changes,
  type V2Event,
  type V2Request,
  type V2Result,
  V2Store,
  type V2StoreJSON,
} from "../v2store/mod.ts";
import type { AuxBuckets } from "../mvcc/mod.ts";

/** etcd's StoreClusterPrefix, StoreKeysPrefix and v2 auth's StorePermsPrefix. */
export const CLUSTER_PREFIX = "/0";
export const KEYS_PREFIX = "/1";
export const AUTH_PREFIX = "/2";

export const V2_BUCKET = "v2store";
/** Rows: the index and stats, then n<path> for each node and e<20-digit index> per event. */
export const V2_META = "meta";
export const V2_NODE = "n";
export const V2_EVENT = "e";
/** Set in the meta row once the bucket holds etcd's layout (before, keys sat at the root). */
export const V2_LAYOUT = "etcd-3.4";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export const eventRowKey = (i: number) => V2_EVENT + String(i).padStart(20, "0");

/** The rows of a whole store, as the bucket holds them. */
export function v2Rows(j: V2StoreJSON): [string, unknown][] {
  return [
    [V2_META, { index: j.index, stats: j.stats, layout: V2_LAYOUT }],
    ...j.nodes.map((n): [string, NodeRecord] => [V2_NODE + n.path, n]),
    ...j.events.map((e): [string, V2Event] => [eventRowKey(e.node!.modifiedIndex!), e]),
  ];
}

/** A bucket's rows as a store (index 0 and no nodes for an empty one). */
export function readV2Rows(aux: AuxBuckets, bucket: string): V2StoreJSON {
  const out: V2StoreJSON = { index: 0, stats: newStats(), nodes: [], events: [] };
  for (const [key, value] of aux.list(bucket)) {
    const v = JSON.parse(fromUtf8.decode(value));
    if (key === V2_META) {
      out.index = v.index;
      out.stats = v.stats;
    } else if (key.startsWith(V2_NODE)) out.nodes.push(v);
    else if (key.startsWith(V2_EVENT)) out.events.push(v);
  }
  return out;
}

function rekeyNode(n: NodeExtern, rekey: (key: string) => string): NodeExtern {
  const out: NodeExtern = { ...n };
  if (n.key !== undefined) {
    const key = rekey(n.key);
    if (key === "") delete out.key;
    else out.key = key;
  }
  if (n.nodes) out.nodes = n.nodes.map((c) => rekeyNode(c, rekey));
  return out;
}

/**
 * A copy of `e` with every key of its nodes rewritten by `rekey` (an empty key is left out,
 * as etcd's JSON omits it); the store's history keeps the original.
 */
export function rekeyEvent(e: V2Event, rekey: (key: string) => string): V2Event {
  const out: V2Event = { ...e };
  if (e.node) out.node = rekeyNode(e.node, rekey);
  if (e.prevNode) out.prevNode = rekeyNode(e.prevNode, rekey);
  return out;
}

export class MemberV2Store {
  readonly store: V2Store;

  constructor(readonly aux: () => AuxBuckets, now: () => number) {
    this.store = new V2Store(now, [CLUSTER_PREFIX, KEYS_PREFIX]);
    this.reload();
  }

  /** Reads the store back from the backend (at start, and after a snapshot replaced it). */
  reload(): void {
    this.store.restore(readV2Rows(this.aux(), V2_BUCKET));
    // A new member's namespaces, made by the restore.
    this.#save(this.store.takeChanges());
  }

  /** Applies a committed v2 request (its path in the store's terms) and persists it. */
  apply(req: V2Request): V2Result {
    return this.write((s) => applyV2Request(s, req));
  }

  /** Runs writes on the store and persists what they changed. */
  write<T>(f: (store: V2Store) => T): T {
    try {
      return f(this.store);
    } finally {
      this.#save(this.store.takeChanges());
    }
  }

  /** The store as etcd's store.Save() writes it: a raft snapshot's data. */
  toEtcdJSON(): Uint8Array {
    return utf8.encode(this.store.toEtcdJSON());
  }

  /** Replaces the store with etcd's store.Save() JSON (a snapshot's data) and persists it. */
  recoverEtcdJSON(data: Uint8Array): void {
    this.store.recoverEtcdJSON(fromUtf8.decode(data));
    this.store.takeChanges();
    const aux = this.aux();
    for (const [key] of aux.list(V2_BUCKET)) aux.delete(V2_BUCKET, key);
    for (const [key, v] of v2Rows(this.store.toJSON())) {
      aux.put(V2_BUCKET, key, utf8.encode(JSON.stringify(v)));
    }
  }

  #save(c: V2Changes): void {
    const aux = this.aux();
    const put = (key: string, v: unknown) =>
      aux.put(V2_BUCKET, key, utf8.encode(JSON.stringify(v)));
    put(V2_META, { index: c.index, stats: c.stats, layout: V2_LAYOUT });
    for (const [path, rec] of c.nodes) {
      if (rec) put(V2_NODE + path, rec);
      else aux.delete(V2_BUCKET, V2_NODE + path);
    }
    for (const e of c.events) put(eventRowKey(e.node!.modifiedIndex!), e);
    for (const i of c.evicted) aux.delete(V2_BUCKET, eventRowKey(i));
  }
}
