// v2 watchers (etcd's watcherHub): a watcher waits on one key, or a subtree when recursive, for
// the first event at or after its index; stream watchers keep receiving. Notification happens
// synchronously while an entry is applied, so every member notifies in log order.
import { eventIndex, type V2Event } from "./event.ts";
import type { EventHistory } from "./history.ts";
import { cleanPath } from "./node.ts";

/** Events a slow watcher may have pending before it is dropped (etcd's channel size). */
const WATCHER_BUFFER = 100;

export class Watcher {
  #queue: V2Event[] = [];
  #wake?: () => void;
  #closed = false;
  #onRemove?: () => void;

  constructor(
    readonly recursive: boolean,
    readonly stream: boolean,
    readonly sinceIndex: number,
    /** The store index when the watch began (the X-Etcd-Index of a watch answer). */
    readonly startIndex: number,
  ) {}

  /** The next event, or undefined once the watcher is removed with nothing pending. */
  async next(): Promise<V2Event | undefined> {
    while (this.#queue.length === 0) {
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    return this.#queue.shift();
  }

  remove(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onRemove?.();
    this.#wake?.();
  }

  get removed(): boolean {
    return this.#closed;
  }

  /** @internal */
  push(e: V2Event): void {
    if (this.#queue.length >= WATCHER_BUFFER) {
      this.remove(); // etcd closes a watcher that cannot keep up
      return;
    }
    this.#queue.push(e);
    this.#wake?.();
  }

  /** @internal */
  setOnRemove(f: () => void): void {
    this.#onRemove = f;
  }

  /** Whether this watcher takes the event; delivers it if so. */
  notify(e: V2Event, originalPath: boolean, deleted: boolean): boolean {
    if ((this.recursive || originalPath || deleted) && eventIndex(e) >= this.sinceIndex) {
      this.push(e);
      return true;
    }
    return false;
  }
}

export class WatcherHub {
  readonly #watchers = new Map<string, Watcher[]>();
  count = 0;

  constructor(readonly history: EventHistory) {}

  watch(
    key: string,
    recursive: boolean,
    stream: boolean,
    index: number,
    storeIndex: number,
  ): Watcher {
    const hit = this.history.scan(key, recursive, index);
    const w = new Watcher(recursive, stream, index, storeIndex);
    if (hit) {
      w.push({ ...hit, etcdIndex: storeIndex });
      return w;
    }
    const list = this.#watchers.get(key) ?? [];
    list.push(w);
    this.#watchers.set(key, list);
    this.count++;
    w.setOnRemove(() => {
      const l = this.#watchers.get(key);
      const i = l?.indexOf(w) ?? -1;
      if (i < 0) return;
      l!.splice(i, 1);
      if (l!.length === 0) this.#watchers.delete(key);
      this.count--;
    });
    return w;
  }

  /** Wakes watchers on the event's key and on every ancestor of it. */
  notify(e: V2Event): void {
    const key = e.node?.key ?? "/";
    let curr = "/";
    this.notifyWatchers(e, curr, false);
    for (const seg of key.split("/").filter((s) => s !== "")) {
      curr = cleanPath(curr + "/" + seg);
      this.notifyWatchers(e, curr, false);
    }
  }

  notifyWatchers(e: V2Event, nodePath: string, deleted: boolean): void {
    const list = this.#watchers.get(nodePath);
    if (!list) return;
    const key = e.node?.key ?? "/";
    const originalPath = key === nodePath;
    for (const w of [...list]) {
      if (!originalPath && isHidden(nodePath, key)) continue;
      if (w.notify(e, originalPath, deleted) && !w.stream) w.remove();
    }
  }

  /** Drops every watcher (a snapshot replaced the store). */
  clear(): void {
    for (const list of [...this.#watchers.values()]) list.forEach((w) => w.remove());
  }
}

/** Whether a key is hidden from a watcher on watchPath (a `_` component below it). */
function isHidden(watchPath: string, keyPath: string): boolean {
  if (watchPath.length > keyPath.length) return false;
  return cleanPath("/" + keyPath.slice(watchPath.length)).includes("/_");
}
