// v2 watches on the v3 store (etcdserverpb/api/v2v3/watcher.go): one v3 watch of the whole
// prefix, with previous values, from revision `sinceIndex` as given (etcd passes the v2 index
// unconverted); each revision's events become one v2 event named by the action key, about the
// longest other key written (a create's new parent directories are shorter). etcd crashes on
// a revision with no action key or no other key (a v3 write under the prefix, a delete of a
// missing key); such revisions are skipped here.
import { type Event, prefixEnd, type WatcherHub, type WatchResponse } from "../../mvcc/mod.ts";
import { WatchFeed } from "../../server/mod.ts";
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
  const key = bytes(layout.prefix);
  const stop = new AbortController();
  const feed = new WatchFeed(watchers, {
    key,
    rangeEnd: prefixEnd(key),
    startRevision: opts.sinceIndex,
    prevKv: true,
  }, stop.signal);
  const close = () => {
    stop.abort();
    feed.close();
  };
  let createdRev: number;
  try {
    createdRev = await feed.created;
  } catch {
    close();
    throw new V2Error(ErrorCode.RaftInternal, path, 0);
  }
  const pending: V2Event[] = [];
  return {
    startIndex: v2Index(createdRev),
    async next() {
      while (!stop.signal.aborted && pending.length === 0) {
        // A compacted start ends the watch with nothing, as etcd's closed channel does.
        const resp = await feed.next().catch(() => undefined);
        if (!resp) break;
        for (const e of v2Events(layout, resp)) {
          if (!matches(e, path, opts.recursive)) continue;
          pending.push(e);
          if (!opts.stream) break;
        }
      }
      const e = pending.shift();
      // A plain watch ends with its first event.
      if (!e || !opts.stream) close();
      return e;
    },
    remove: close,
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
