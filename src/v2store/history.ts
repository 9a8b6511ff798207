// The last 1000 events (etcd's EventHistory): watchers asking for a past index are answered from
// here, and an index older than the window gets 401 EventIndexCleared.
import { ErrorCode, V2Error } from "./errors.ts";
import { eventIndex, type V2Event } from "./event.ts";

export const HISTORY_CAPACITY = 1000;

export class EventHistory {
  events: V2Event[] = [];

  constructor(readonly capacity = HISTORY_CAPACITY) {}

  get startIndex(): number {
    return this.events.length > 0 ? eventIndex(this.events[0]) : 0;
  }
  get lastIndex(): number {
    return this.events.length > 0 ? eventIndex(this.events[this.events.length - 1]) : 0;
  }

  /** Appends; returns the events pushed out of the window. */
  add(e: V2Event): V2Event[] {
    this.events.push(e);
    const over = this.events.length - this.capacity;
    return over > 0 ? this.events.splice(0, over) : [];
  }

  /** The first event at or after `index` that a watcher on `key` would see, if any. */
  scan(key: string, recursive: boolean, index: number): V2Event | undefined {
    const start = this.startIndex;
    if (index < start) {
      throw new V2Error(
        ErrorCode.EventIndexCleared,
        `the requested history has been cleared [${start}/${index}]`,
      );
    }
    if (index > this.lastIndex) return undefined;
    const prefix = key.endsWith("/") ? key : key + "/";
    for (const e of this.events) {
      if (eventIndex(e) < index || e.refresh) continue;
      const k = e.node?.key ?? "";
      let ok = k === key || (recursive && k.startsWith(prefix));
      const removedDir = (e.action === "delete" || e.action === "expire") && e.prevNode?.dir;
      if (removedDir && key.startsWith(e.prevNode!.key!)) ok = true;
      if (ok) return e;
    }
    return undefined;
  }
}
