// v2 watches on the v3 store (etcdserverpb/api/v2v3/watcher.go): one v3 watch of the whole
// prefix, with previous values, from revision `sinceIndex` as given (etcd passes the v2 index
// unconverted); each revision's events become one v2 event named by the action key, about the
// longest other key written (a create's new parent directories are shorter). etcd crashes on
// a revision with no action key or no other key (a v3 write under the prefix, a delete of a
// missing key); such revisions are skipped here.
import type { Event, WatcherHub, WatchResponse } from "../../mvcc/mod.ts";
import { prefixEnd } from "../../mvcc/mod.ts";
import { type Action, ErrorCode, V2Error, type V2Event } from "../../v2store/mod.ts";
import { bytes, text, v2Index, type V2v3Layout } from "./v2v3_layout.ts";

/** A v2 watcher as the keys handler reads it. */
export interface V2v3Watcher {
  readonly startIndex: number;
  next(): Promise<V2Event | undefined>;
  remove(): void;
}

export async function watchV2v3(
  watchers: WatcherHub,
  layout: V2v3Layout,
  path: string,
  opts: { recursive: boolean; stream: boolean; sinceIndex: number },
): Promise<V2v3Watcher> {
  const feed = new V3Feed(watchers);
  const key = bytes(layout.prefix);
  feed.start({ key, rangeEnd: prefixEnd(key), startRevision: opts.sinceIndex, prevKv: true });
  let createdRev: number;
  try {
    createdRev = await feed.created;
  } catch {
    feed.close();
    throw new V2Error(ErrorCode.RaftInternal, path, 0);
  }
  const pending: V2Event[] = [];
  return {
    startIndex: v2Index(createdRev),
    async next() {
      while (!feed.closed && pending.length === 0) {
        const resp = await feed.next();
        if (!resp) break;
        for (const e of v2Events(layout, resp)) {
          if (!matches(e, path, opts.recursive)) continue;
          pending.push(e);
          if (!opts.stream) break;
        }
      }
      const e = pending.shift();
      // A plain watch ends with its first event.
      if (!e || !opts.stream) feed.close();
      return e;
    },
    remove: () => feed.close(),
  };
}

// etcd's filter: a recursive watch takes keys starting with its path (as strings: "/a" also
// takes "/ab"), except hidden ones below it; a plain watch takes its own key only.
function matches(e: V2Event, path: string, recursive: boolean): boolean {
  const k = e.node?.key ?? "";
  if (!recursive) return k === path;
  if (!k.startsWith(path)) return false;
  return !("/" + k.slice(path.length)).includes("/_");
}

function v2Events(layout: V2v3Layout, resp: WatchResponse): V2Event[] {
  const out: V2Event[] = [];
  for (const rev of byRevision(resp.events)) {
    let action: Event | undefined;
    let node: Event | undefined;
    for (const ev of rev) {
      if (text(ev.kv.key) === layout.actionKey) action = ev;
      else if (!node || node.kv.key.length < ev.kv.key.length) node = ev;
    }
    if (!action || !node) continue;
    out.push({
      action: text(action.kv.value) as Action,
      node: layout.node(node.kv),
      prevNode: layout.node(node.prevKv),
      etcdIndex: v2Index(resp.header.revision),
    });
  }
  return out;
}

function byRevision(events: Event[]): Event[][] {
  const out: Event[][] = [];
  for (const ev of events) {
    const last = out.at(-1);
    if (last && last[0].kv.modRevision === ev.kv.modRevision) last.push(ev);
    else out.push([ev]);
  }
  return out;
}

/**
 * One watch on the member's hub, read response by response; `created` settles with the created
 * response's revision. The hub waits for each response to be taken before sending the next.
 */
class V3Feed {
  readonly #stream;
  readonly #queue: { response: WatchResponse; taken: () => void }[] = [];
  #closed = false;
  #wake?: () => void;
  #created!: (rev: number) => void;
  #failed!: (err: unknown) => void;
  readonly created = new Promise<number>((resolve, reject) => {
    this.#created = resolve;
    this.#failed = reject;
  });

  constructor(watchers: WatcherHub) {
    this.#stream = watchers.createStream(
      (response) => new Promise<void>((taken) => this.#push({ response, taken })),
      (err) => {
        this.#failed(err);
        this.close();
      },
    );
  }

  start(req: Parameters<ReturnType<WatcherHub["createStream"]>["create"]>[0]): void {
    this.#stream.create(req);
  }

  #push(item: { response: WatchResponse; taken: () => void }): void {
    if (item.response.created) {
      item.taken();
      if (item.response.canceled) this.#failed(new Error(item.response.cancelReason));
      else this.#created(item.response.header.revision);
      return;
    }
    this.#queue.push(item);
    this.#wake?.();
  }

  /** The next response with events; undefined once closed or canceled (compacted). */
  async next(): Promise<WatchResponse | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      const item = this.#queue.shift();
      if (!item) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      item.taken();
      if (item.response.canceled) return undefined;
      if (item.response.events.length > 0) return item.response;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.close();
    for (const item of this.#queue.splice(0)) item.taken();
    this.#wake?.();
  }
}
