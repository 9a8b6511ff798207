// Progress notifications: the periodic ones for watchers created with progress_notify, and
// the answer to a client's progress request. Both tell the client that it has every event up
// to a revision, so both are sent only for what is synced: a periodic one only to a synced
// watcher, a requested one only once every watcher of the stream has caught up.

import { control, INVALID_WATCH_ID, response } from "./watcher_hub_send.ts";
import type { HubState, Stream } from "./watcher_hub_state.ts";

// Answers a pending progress request once the stream has no unsynced watcher left; called
// whenever a watcher leaves the stream's unsynced set.
export function settleProgress(hub: HubState, s: Stream): void {
  if (s.progressPending && s.unsynced.size === 0) {
    s.progressPending = false;
    control(s, response(INVALID_WATCH_ID, hub.store.currentRevision()));
  }
}

// etcd's GetProgressReportInterval: the interval plus up to a tenth of it, drawn per stream, so
// that streams created together (a client reconnecting) are not all notified at once.
function progressPeriod(hub: HubState, s: Stream): number {
  return hub.progressIntervalMs + Math.floor(s.progressJitter * hub.progressIntervalMs / 10);
}

export function armProgress(hub: HubState, s: Stream): void {
  if (s.closed || s.progressTimer !== undefined) return;
  s.progressTimer = hub.timers.setTimeout(() => progressTick(hub, s), progressPeriod(hub, s));
}

// A watcher is notified only when no events went out to it for a whole interval; the timer
// stays armed while the stream has any watcher that wants notifications.
function progressTick(hub: HubState, s: Stream): void {
  s.progressTimer = undefined;
  if (s.closed) return;
  const rev = hub.store.currentRevision();
  let any = false;
  for (const w of s.watchers.values()) {
    if (!w.progressNotify || w.state === "compacted") continue;
    any = true;
    // Only a synced watcher may claim it has everything up to the current revision; like
    // etcd, a notification that does not fit in the buffer is dropped.
    if (w.progressDue && w.state === "synced" && s.queue.bytes < hub.bufferBytes) {
      control(s, response(w.id, rev));
    }
    w.progressDue = true;
  }
  if (any) armProgress(hub, s);
}
