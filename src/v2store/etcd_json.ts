// The whole store as etcd 3.4's store.Save() writes it, which is the data of etcd's raft
// snapshots: the node tree (Go's field names, children as a map sorted by name, files with null
// children, permanent nodes with Go's zero time), the watcher hub's ring of the last 1000
// events, the index, the stats and the store version. Written and read here, so a snapshot
// crosses between etcd and etcd-ts members in both directions.
import { type Action, eventIndex, type V2Event } from "./event.ts";
import { HISTORY_CAPACITY } from "./history.ts";
import { goString as q } from "./go_json.ts";
import { formatExpiration, type NodeExtern, type NodeRecord } from "./node.ts";
import { newStats, type StoreStats } from "./stats.ts";
import type { V2StoreJSON } from "./store.ts";

/** Go's zero time.Time: a node without expiry. */
const ZERO_TIME = "0001-01-01T00:00:00Z";
/** etcd's store version (defaultVersion). */
const STORE_VERSION = 2;

/** Go sorts a map's keys by their bytes; for UTF-8 that is code point order. */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function nodeJSON(r: NodeRecord, children: Map<string, NodeRecord[]>): string {
  const expire = r.expireTime === undefined ? ZERO_TIME : formatExpiration(r.expireTime);
  const head = `"Path":${
    q(r.path)
  },"CreatedIndex":${r.createdIndex},"ModifiedIndex":${r.modifiedIndex},"ExpireTime":${
    q(expire)
  },"Value":${q(r.value ?? "")}`;
  if (!r.dir) return `{${head},"Children":null}`;
  const kids = (children.get(r.path) ?? [])
    .map((c) => [c.path.slice(c.path.lastIndexOf("/") + 1), c] as const)
    .sort(([a], [b]) => byCodePoint(a, b))
    .map(([name, c]) => `${q(name)}:${nodeJSON(c, children)}`);
  return `{${head},"Children":{${kids.join(",")}}}`;
}

function externJSON(n: NodeExtern): string {
  const f: string[] = [];
  if (n.key) f.push(`"key":${q(n.key)}`);
  if (n.value !== undefined) f.push(`"value":${q(n.value)}`);
  if (n.dir) f.push(`"dir":true`);
  if (n.expiration !== undefined) f.push(`"expiration":${q(n.expiration)}`);
  if (n.ttl) f.push(`"ttl":${n.ttl}`);
  if (n.nodes?.length) f.push(`"nodes":[${n.nodes.map(externJSON).join(",")}]`);
  if (n.modifiedIndex) f.push(`"modifiedIndex":${n.modifiedIndex}`);
  if (n.createdIndex) f.push(`"createdIndex":${n.createdIndex}`);
  return `{${f.join(",")}}`;
}

function eventJSON(e: V2Event): string {
  const f = [`"action":${q(e.action)}`];
  if (e.node) f.push(`"node":${externJSON(e.node)}`);
  if (e.prevNode) f.push(`"prevNode":${externJSON(e.prevNode)}`);
  if (e.refresh) f.push(`"refresh":true`);
  return `{${f.join(",")}}`;
}

/** The event ring as etcd's eventQueue holds it after as many inserts as there are events. */
function historyJSON(events: V2Event[]): string {
  const slots: string[] = new Array(HISTORY_CAPACITY).fill("null");
  events.forEach((e, i) => (slots[i] = eventJSON(e)));
  const size = events.length;
  const start = size > 0 ? eventIndex(events[0]) : 0;
  const last = size > 0 ? eventIndex(events[size - 1]) : 0;
  return `{"Queue":{"Events":[${slots.join(",")}],"Size":${size},"Front":0,"Back":${
    size % HISTORY_CAPACITY
  },"Capacity":${HISTORY_CAPACITY}},"StartIndex":${start},"LastIndex":${last}}`;
}

function statsJSON(s: StoreStats): string {
  return `{${Object.entries(s).map(([k, v]) => `${q(k)}:${v}`).join(",")}}`;
}

/** The store in etcd's store.Save() JSON. */
export function toEtcdStoreJSON(j: V2StoreJSON): string {
  const children = new Map<string, NodeRecord[]>();
  for (const r of j.nodes) {
    const parent = r.path.slice(0, r.path.lastIndexOf("/")) || "/";
    children.set(parent, [...children.get(parent) ?? [], r]);
  }
  const root: NodeRecord = { path: "/", createdIndex: 0, modifiedIndex: 0, dir: true };
  return `{"Root":${nodeJSON(root, children)},"WatcherHub":{"EventHistory":${
    historyJSON(j.events)
  }},"CurrentIndex":${j.index},"Stats":${statsJSON(j.stats)},"CurrentVersion":${STORE_VERSION}}`;
}

interface EtcdNode {
  Path: string;
  CreatedIndex: number;
  ModifiedIndex: number;
  ExpireTime: string;
  Value: string;
  Children: Record<string, EtcdNode> | null;
}

interface EtcdStore {
  Root: EtcdNode;
  WatcherHub?: {
    EventHistory?: {
      Queue?: { Events?: (V2Event | null)[]; Size?: number; Front?: number; Capacity?: number };
    };
  };
  CurrentIndex: number;
  Stats?: Partial<StoreStats>;
}

/** Thrown for data that is not etcd's v2 store. */
export class EtcdStoreJSONError extends Error {
  override name = "EtcdStoreJSONError";
}

function expireTimeOf(n: EtcdNode): number | undefined {
  const ms = Date.parse(n.ExpireTime);
  if (Number.isNaN(ms)) throw new EtcdStoreJSONError(`node ${n.Path}: bad ExpireTime`);
  // Go's zero time, and anything before the year 1970, is "permanent".
  return ms <= 0 ? undefined : ms;
}

function recordsOf(n: EtcdNode, out: NodeRecord[]): void {
  for (const c of Object.values(n.Children ?? {})) {
    if (typeof c?.Path !== "string") throw new EtcdStoreJSONError(`a child of ${n.Path}`);
    const r: NodeRecord = {
      path: c.Path,
      createdIndex: c.CreatedIndex,
      modifiedIndex: c.ModifiedIndex,
    };
    const expireTime = expireTimeOf(c);
    if (expireTime !== undefined) r.expireTime = expireTime;
    if (c.Children !== null && c.Children !== undefined) r.dir = true;
    else r.value = c.Value ?? "";
    out.push(r);
    if (r.dir) recordsOf(c, out);
  }
}

/** The events of etcd's ring, oldest first. */
function eventsOf(s: EtcdStore): V2Event[] {
  const q = s.WatcherHub?.EventHistory?.Queue;
  const slots = q?.Events ?? [];
  const capacity = q?.Capacity || slots.length;
  const out: V2Event[] = [];
  for (let i = 0; i < (q?.Size ?? 0); i++) {
    const e = slots[((q?.Front ?? 0) + i) % capacity];
    if (!e) continue;
    const event: V2Event = { action: e.action as Action, etcdIndex: 0 };
    if (e.node) event.node = e.node;
    if (e.prevNode) event.prevNode = e.prevNode;
    if (e.refresh) event.refresh = true;
    event.etcdIndex = eventIndex(event);
    out.push(event);
  }
  return out;
}

/** Reads etcd's store.Save() JSON (etcd's store.Recovery). */
export function fromEtcdStoreJSON(text: string): V2StoreJSON {
  let s: EtcdStore;
  try {
    s = JSON.parse(text);
  } catch (err) {
    throw new EtcdStoreJSONError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof s?.Root?.Path !== "string" || typeof s.CurrentIndex !== "number") {
    throw new EtcdStoreJSONError("no Root and CurrentIndex");
  }
  const nodes: NodeRecord[] = [];
  recordsOf(s.Root, nodes);
  return {
    index: s.CurrentIndex,
    stats: { ...newStats(), ...s.Stats, watchers: 0 },
    nodes,
    events: eventsOf(s),
  };
}
