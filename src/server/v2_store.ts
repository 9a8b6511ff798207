// The member's v2 stores (etcd keeps one beside the v3 key space): the keys, and apart from them
// the v2 auth records (users, roles, the enabled flag; etcd's /2 subtree). Each is persisted row
// by row in its own backend bucket, in the same batch transaction as the consistent index of the
// entry that changed it: a restart replays exactly the entries after it, and a snapshot, which
// is the backend file, carries it.
import {
  applyV2Request,
  type V2Changes,
  type V2Request,
  type V2Result,
  V2Store,
  type V2StoreJSON,
} from "../v2store/mod.ts";
import type { AuxBuckets } from "../mvcc/mod.ts";

const KEYS_BUCKET = "v2store";
const AUTH_BUCKET = "v2auth";
const META = "meta";
const NODE = "n"; // n<path>
const EVENT = "e"; // e<20-digit index>

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class MemberV2Store {
  readonly #keys: PersistedV2Store;
  readonly #auth: PersistedV2Store;

  constructor(aux: () => AuxBuckets, now: () => number) {
    this.#keys = new PersistedV2Store(KEYS_BUCKET, aux, now);
    this.#auth = new PersistedV2Store(AUTH_BUCKET, aux, now);
  }

  /** The keys: serves v2 reads and watches; changed only by `apply`, restored by `reload`. */
  get store(): V2Store {
    return this.#keys.store;
  }

  /** The v2 auth records, read by the v2 API on every request while auth is on. */
  get authStore(): V2Store {
    return this.#auth.store;
  }

  /** Reads both stores back from the backend (at start, and after a snapshot replaced it). */
  reload(): void {
    this.#keys.reload();
    this.#auth.reload();
  }

  /** Applies a committed v2 request to the store it names and persists what it changed. */
  apply(req: V2Request): V2Result {
    return (req.auth ? this.#auth : this.#keys).apply(req);
  }
}

/** One v2 store kept in one bucket. */
class PersistedV2Store {
  readonly store: V2Store;

  constructor(readonly bucket: string, readonly aux: () => AuxBuckets, now: () => number) {
    this.store = new V2Store(now);
    this.reload();
  }

  reload(): void {
    const saved = this.#load();
    if (saved) this.store.restore(saved);
  }

  apply(req: V2Request): V2Result {
    const res = applyV2Request(this.store, req);
    this.#save(this.store.takeChanges());
    return res;
  }

  #load(): V2StoreJSON | undefined {
    const rows = this.aux().list(this.bucket);
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

  #save(c: V2Changes): void {
    const aux = this.aux();
    const bucket = this.bucket;
    const put = (key: string, v: unknown) => aux.put(bucket, key, utf8.encode(JSON.stringify(v)));
    const eventKey = (i: number) => EVENT + String(i).padStart(20, "0");
    put(META, { index: c.index, stats: c.stats });
    for (const [path, rec] of c.nodes) {
      if (rec) put(NODE + path, rec);
      else aux.delete(bucket, NODE + path);
    }
    for (const e of c.events) put(eventKey(e.node!.modifiedIndex!), e);
    for (const i of c.evicted) aux.delete(bucket, eventKey(i));
  }
}
