// The pieces of etcd's clientv3/concurrency recipes that the Election and Lock services share,
// run on the member's own KV, lease and watch operations (etcd runs them through an in-process
// client): the session lease, a waiter's key, and waiting until every earlier waiter is gone.
import type { AuthInfo } from "../auth/mod.ts";
import { EventType, MvccError, prefixEnd, type WatcherHub } from "../mvcc/mod.ts";
import type { WatchCreateRequest, WatchResponse } from "../mvcc/mod.ts";
import type { HeaderOf, ResponseHeader } from "./header.ts";
import type { KvApi } from "./kv.ts";
import {
  type Compare,
  CompareResult,
  CompareTarget,
  type RangeRequest,
  SortOrder,
  SortTarget,
} from "./kv_types.ts";
import { concatBytes } from "../pb/mod.ts";

/** etcd's server-side sessions grant a lease of this TTL when the request names none. */
const SESSION_TTL_SECONDS = 60;

export interface ConcurrencyDeps {
  kv: Pick<KvApi, "range" | "txn" | "deleteRange">;
  /** Grants a lease of `ttl` seconds with an ID the member picks. */
  grantLease(ttl: number): Promise<bigint>;
  watchers: WatcherHub;
  header: HeaderOf;
}

const utf8 = new TextEncoder();

export function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  return concatBytes(parts.map((p) => typeof p === "string" ? utf8.encode(p) : p));
}

/** The lease a recipe's keys live on: the request's, or a new one for lease 0, as etcd does. */
export async function sessionLease(deps: ConcurrencyDeps, lease: bigint): Promise<bigint> {
  return lease !== 0n ? lease : await deps.grantLease(SESSION_TTL_SECONDS);
}

/** A waiter's key: the prefix and its lease in lower-case hex (Go's %x of the signed ID). */
export function waiterKey(prefix: Uint8Array, lease: bigint): Uint8Array {
  return concat(prefix, lease.toString(16));
}

/** The compare "key was created at `rev`" (0: the key does not exist). */
export function createdAt(key: Uint8Array, rev: number): Compare {
  return { key, target: CompareTarget.CREATE, result: CompareResult.EQUAL, createRevision: rev };
}

/** The oldest key under the prefix (clientv3's WithFirstCreate). */
export function firstCreated(prefix: Uint8Array): RangeRequest {
  return {
    key: prefix,
    rangeEnd: prefixEnd(prefix),
    sortTarget: SortTarget.CREATE,
    sortOrder: SortOrder.ASCEND,
    limit: 1,
  };
}

/**
 * Waits until no key under the prefix created at or below `maxCreateRev` is left, deleting
 * nothing: the youngest such key is watched until it goes, then the next (etcd's waitDeletes).
 * Answers the header of the last look, which found none.
 */
export async function waitDeletes(
  deps: ConcurrencyDeps,
  ai: AuthInfo,
  prefix: Uint8Array,
  maxCreateRev: number,
  signal: AbortSignal,
): Promise<ResponseHeader> {
  for (;;) {
    signal.throwIfAborted();
    const r = await deps.kv.range({
      key: prefix,
      rangeEnd: prefixEnd(prefix),
      sortTarget: SortTarget.CREATE,
      sortOrder: SortOrder.DESCEND,
      limit: 1,
      maxCreateRevision: maxCreateRev,
    }, ai);
    if (r.kvs.length === 0) return r.header;
    const feed = new WatchFeed(deps.watchers, {
      key: r.kvs[0].key,
      startRevision: r.header.revision,
    }, signal);
    try {
      while (!(await feed.next()).events.some((e) => e.type === EventType.DELETE));
    } finally {
      feed.close();
    }
  }
}

/**
 * One watch on the member's watcher hub, read response by response. The hub waits for each
 * response to be taken before it sends the next, so a slow reader holds back only this watch.
 */
export class WatchFeed {
  readonly #stream;
  readonly #queue: { response: WatchResponse; taken: () => void }[] = [];
  readonly #signal: AbortSignal;
  #failure: unknown;
  #wake?: () => void;
  #created!: { resolve(rev: number): void; reject(err: unknown): void };
  /** The revision of the watch's created response; rejects if the watch ends before it. */
  readonly created = new Promise<number>((resolve, reject) => {
    this.#created = { resolve, reject };
  });

  constructor(watchers: WatcherHub, req: WatchCreateRequest, signal: AbortSignal) {
    this.created.catch(() => {}); // nobody need ask
    this.#signal = signal;
    this.#stream = watchers.createStream(
      (response) => new Promise<void>((taken) => this.#push({ response, taken })),
      (err) => this.#fail(err),
    );
    signal.addEventListener("abort", this.#onAbort, { once: true });
    this.#stream.create(req);
  }

  #onAbort = () => this.#fail(this.#signal.reason);

  #push(item: { response: WatchResponse; taken: () => void }): void {
    const { created, canceled, header } = item.response;
    if (created && canceled) this.#created.reject(new MvccError("compacted"));
    else if (created) this.#created.resolve(header.revision);
    this.#queue.push(item);
    this.#wake?.();
  }

  #fail(err: unknown): void {
    this.#failure ??= err;
    this.#created.reject(err);
    this.#wake?.();
  }

  /** The next response with events; throws when the watch was compacted away or aborted. */
  async next(): Promise<WatchResponse> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      const item = this.#queue.shift();
      if (!item) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      item.taken();
      const { response } = item;
      if (response.canceled) throw new MvccError("compacted");
      if (response.events.length > 0) return response;
    }
  }

  close(): void {
    this.#signal.removeEventListener("abort", this.#onAbort);
    this.#stream.close();
    for (const item of this.#queue.splice(0)) item.taken();
  }
}
