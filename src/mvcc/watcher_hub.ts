// The watcher hub: etcd's watchable store, fed by the apply path and read by Watch streams.
//
// A watcher is either synced (it has every event up to the last notified revision and gets
// new ones straight from notify) or unsynced (it is behind, at `nextRev`, and a catch-up step
// reads its events from the store's history). notify() never waits for a client: when a
// stream's send buffer is full, the watchers it would grow fall behind instead, remembering
// only the revision to resume from, so memory stays bounded whatever the client does. This
// file holds the hub's entry points and the write path's notify; the stream's requests,
// catch-up, delivery and progress notifications each have their own watcher_hub_*.ts file.

import { bytesToBinary } from "./key_range.ts";
import { WatcherGroup } from "./watcher_hub_group.ts";
import { deliver } from "./watcher_hub_send.ts";
import type { HubState, Watcher } from "./watcher_hub_state.ts";
import { createStream } from "./watcher_hub_stream.ts";
import { scheduleCatchUp, toUnsynced } from "./watcher_hub_sync.ts";
import type {
  Event,
  WatcherHub,
  WatcherHubOptions,
  WatcherHubStats,
  WatcherHubStore,
} from "./watcher_hub_types.ts";

export const DEFAULT_PROGRESS_INTERVAL_MS = 10 * 60 * 1000;
// etcd's default --max-request-bytes (1.5 MiB) plus its 512 bytes of gRPC overhead.
export const DEFAULT_MAX_RESPONSE_BYTES = 1.5 * 1024 * 1024 + 512;
export const DEFAULT_STREAM_BUFFER_BYTES = 1024 * 1024;
export const DEFAULT_CATCH_UP_BATCH_EVENTS = 1000;

export function createWatcherHub(
  store: WatcherHubStore,
  options: WatcherHubOptions = {},
): WatcherHub {
  const bufferBytes = options.streamBufferBytes ?? DEFAULT_STREAM_BUFFER_BYTES;
  const hub: HubState = {
    store,
    timers: options.timers ?? {
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clearTimeout(h as number),
    },
    progressIntervalMs: options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
    random: options.random ?? Math.random,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    bufferBytes,
    // Catch-up reads more only while the buffer is at most half full.
    catchUpRoom: bufferBytes / 2,
    batchEvents: options.catchUpBatchEvents ?? DEFAULT_CATCH_UP_BATCH_EVENTS,
    synced: new WatcherGroup<Watcher>(),
    streams: new Set(),
    prevKvWatchers: new Set(),
    lastRev: store.currentRevision(),
  };

  return {
    notify: (rev, events) => notify(hub, rev, events),
    wantsPrevKv: () => hub.prevKvWatchers.size > 0,
    createStream: (send, onClosed) => createStream(hub, send, onClosed),
    resync() {
      for (const w of [...hub.synced.all()]) {
        toUnsynced(hub, w, Math.max(w.nextRev, hub.lastRev + 1));
        scheduleCatchUp(hub, w.stream);
      }
    },
    stats: () => stats(hub),
    setProgressInterval(ms) {
      if (!(ms > 0)) throw new Error(`watcher hub: progress interval must be positive, not ${ms}`);
      hub.progressIntervalMs = ms;
    },
  };
}

// The write path: each applied revision's events go to the synced watchers they match, one
// response per watcher. A watcher whose stream has no room falls behind at this revision.
function notify(hub: HubState, rev: number, events: Event[]): void {
  const cur = hub.store.currentRevision();
  if (rev > cur) {
    throw new Error(`watcher hub: notify(${rev}) ahead of the store's revision ${cur}`);
  }
  if (rev > hub.lastRev) hub.lastRev = rev;
  if (hub.synced.size === 0) return;
  const batches = new Map<Watcher, Event[]>();
  for (const ev of events) {
    const key = bytesToBinary(ev.kv.key);
    for (const w of hub.synced.watching(key)) {
      if (ev.kv.modRevision < w.nextRev) continue;
      const batch = batches.get(w);
      if (batch) batch.push(ev);
      else batches.set(w, [ev]);
    }
  }
  for (const [w, batch] of batches) {
    if (!deliver(hub, w, batch, rev, false)) toUnsynced(hub, w, rev);
  }
}

function stats(hub: HubState): WatcherHubStats {
  let unsynced = 0, bufferedResponses = 0, bufferedBytes = 0, bufferedEvents = 0;
  for (const s of hub.streams) {
    unsynced += s.unsynced.size;
    bufferedResponses += s.queue.length;
    bufferedBytes += s.queue.bytes;
    bufferedEvents += s.queue.events;
  }
  return {
    streams: hub.streams.size,
    syncedWatchers: hub.synced.size,
    unsyncedWatchers: unsynced,
    bufferedResponses,
    bufferedBytes,
    bufferedEvents,
  };
}
