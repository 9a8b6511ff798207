// What the hub puts in a stream's send buffer. Control responses (created, canceled, progress)
// always go in; a watcher's events are filtered for it, split into fragments when it asked
// for them, and refused when the buffer is full. That refusal is what makes a synced watcher
// fall behind (etcd's victims) instead of letting a slow client grow the buffer without bound.

import { fragmentResponse, responseSize } from "./watcher_hub_size.ts";
import type { HubState, Stream, Watcher } from "./watcher_hub_state.ts";
import { type Event, EventType, type WatchResponse } from "./watcher_hub_types.ts";

// etcd's clientv3.InvalidWatchID: failed creates and stream-wide progress responses.
export const INVALID_WATCH_ID = -1;

export function response(
  watchId: number,
  rev: number,
  fields: Partial<WatchResponse> = {},
): WatchResponse {
  return {
    header: { revision: rev },
    watchId,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: "",
    fragment: false,
    events: [],
    ...fields,
  };
}

export function control(s: Stream, resp: WatchResponse): void {
  s.queue.push(resp, responseSize(resp));
}

// Queues a watcher's share of `events` (filters and prev_kv applied). Unless forced, refuses
// when the stream's buffer is full, and then queues nothing.
export function deliver(
  hub: HubState,
  w: Watcher,
  events: Event[],
  rev: number,
  force: boolean,
): boolean {
  const selected: Event[] = [];
  for (const ev of events) {
    if (ev.type === EventType.PUT ? w.noPut : w.noDelete) continue;
    selected.push(w.prevKv || !ev.prevKv ? ev : { type: ev.type, kv: ev.kv });
  }
  if (selected.length === 0) return true;
  const whole = response(w.id, rev, { events: selected });
  const parts = w.fragment ? fragmentResponse(whole, hub.maxResponseBytes) : [whole];
  const sizes = parts.map(responseSize);
  const total = sizes.reduce((a, b) => a + b, 0);
  const q = w.stream.queue;
  if (!force && q.length > 0 && q.bytes + total > hub.bufferBytes) return false;
  parts.forEach((p, i) => q.push(p, sizes[i]));
  w.progressDue = false;
  return true;
}
