// Moving watchers between the synced and unsynced groups, and catching the unsynced ones up
// from the store's history (etcd's syncWatchers). Catch-up runs when a stream has room in its
// buffer, reads one bounded chunk per watcher per pass and never splits a revision, and a
// watcher rejoins the synced group in the same synchronous step that reads up to the store's
// current revision, so no revision is missed or delivered twice.

import { settleProgress } from "./watcher_hub_progress.ts";
import { control, deliver, response } from "./watcher_hub_send.ts";
import type { HubState, Stream, Watcher } from "./watcher_hub_state.ts";
import type { Event } from "./watcher_hub_types.ts";

export function toSynced(hub: HubState, w: Watcher): void {
  w.stream.unsynced.delete(w);
  w.state = "synced";
  hub.synced.add(w);
  settleProgress(hub, w.stream);
}

// The watcher keeps only the revision to resume from; its events are read again from history.
export function toUnsynced(hub: HubState, w: Watcher, nextRev: number): void {
  hub.synced.delete(w);
  w.state = "unsynced";
  w.nextRev = nextRev;
  w.stream.unsynced.add(w);
}

export function removeWatcher(hub: HubState, w: Watcher): void {
  hub.prevKvWatchers.delete(w);
  if (w.state === "synced") hub.synced.delete(w);
  w.stream.unsynced.delete(w);
  w.state = "canceled";
}

export function scheduleCatchUp(hub: HubState, s: Stream): void {
  if (s.closed || s.catchUpTimer !== undefined) return;
  s.catchUpTimer = hub.timers.setTimeout(() => {
    s.catchUpTimer = undefined;
    catchUp(hub, s);
  }, 0);
}

// Called when the transport took a response: catch-up waits for the buffer to drain.
export function resumeCatchUp(hub: HubState, s: Stream): void {
  if (s.unsynced.size > 0 && s.queue.bytes <= hub.catchUpRoom) scheduleCatchUp(hub, s);
}

// One pass over the stream's unsynced watchers, one history chunk each, while there is room.
// Yields to the event loop between passes.
function catchUp(hub: HubState, s: Stream): void {
  for (const w of [...s.unsynced]) {
    if (s.closed || s.queue.bytes > hub.catchUpRoom) return;
    if (w.state !== "unsynced") continue;
    try {
      catchUpStep(hub, w);
    } catch (err) {
      // The store failed to serve history (compaction cannot: it is checked first). Ending
      // the stream lets the client re-watch, instead of losing events silently.
      s.fail(err);
      return;
    }
  }
  resumeCatchUp(hub, s);
}

function catchUpStep(hub: HubState, w: Watcher): void {
  const cur = hub.store.currentRevision();
  const compactRev = hub.store.compactRevision();
  if (w.nextRev < compactRev) return cancelCompacted(hub, w, compactRev);
  if (w.nextRev > cur) return toSynced(hub, w);
  const { events, upTo } = historyChunk(hub, w, cur);
  checkHistory(events, w.nextRev, upTo);
  deliver(hub, w, events, cur, true);
  w.nextRev = upTo + 1;
  if (w.nextRev > cur) toSynced(hub, w);
}

// The revisions the watcher still needs were compacted away: like etcd, cancel it and say
// from which revision history is left.
function cancelCompacted(hub: HubState, w: Watcher, compactRev: number): void {
  const s = w.stream;
  s.unsynced.delete(w);
  w.state = "compacted";
  // etcd sends this one with header revision 0.
  control(s, response(w.id, 0, { canceled: true, compactRevision: compactRev }));
  settleProgress(hub, s);
}

// The watcher's next events up to `cur`, at most about one batch of them: a chunk cut short
// ends at a revision boundary (`upTo`), so a revision is never handed out in part. A single
// revision larger than a batch is read whole.
function historyChunk(hub: HubState, w: Watcher, cur: number): { events: Event[]; upTo: number } {
  const { store, batchEvents } = hub;
  const { events } = store.history(w.keyBytes, w.endBytes, w.nextRev, cur, batchEvents);
  if (events.length < batchEvents) return { events, upTo: cur };
  const last = events[events.length - 1].kv.modRevision;
  if (events[0].kv.modRevision === last) {
    return { events: store.history(w.keyBytes, w.endBytes, last, last, 0).events, upTo: last };
  }
  let end = events.length;
  while (events[end - 1].kv.modRevision === last) end--;
  return { events: events.slice(0, end), upTo: last - 1 };
}

// The store's history is trusted to be in order and within bounds; a store that breaks that
// would silently reorder or duplicate events for clients, so check it.
function checkHistory(events: Event[], fromRev: number, toRev: number): void {
  let prev = fromRev;
  for (const ev of events) {
    const rev = ev.kv.modRevision;
    if (rev < prev || rev > toRev) {
      throw new Error(
        `watcher hub: history(${fromRev}..${toRev}) returned revision ${rev} out of order`,
      );
    }
    prev = rev;
  }
}
