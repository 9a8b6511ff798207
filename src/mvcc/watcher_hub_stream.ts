// One Watch stream's requests (etcd's watchStream): create a watcher, cancel one, request
// progress, close. A new watcher starting at a past revision joins the unsynced group and is
// caught up from history; one starting after the current revision is synced at once.

import { watchRange } from "./watcher_hub_group.ts";
import { armProgress, settleProgress } from "./watcher_hub_progress.ts";
import { SendQueue } from "./watcher_hub_queue.ts";
import { control, INVALID_WATCH_ID, response } from "./watcher_hub_send.ts";
import type { HubState, Stream, Watcher } from "./watcher_hub_state.ts";
import { removeWatcher, resumeCatchUp, scheduleCatchUp } from "./watcher_hub_sync.ts";
import {
  FilterType,
  type WatchCreateRequest,
  type WatchSend,
  type WatchStream,
} from "./watcher_hub_types.ts";

const EMPTY = new Uint8Array();

export function createStream(
  hub: HubState,
  send: WatchSend,
  onClosed?: (err: unknown) => void,
): WatchStream {
  const s: Stream = {
    queue: new SendQueue(send, () => resumeCatchUp(hub, s), (err) => s.fail(err)),
    watchers: new Map(),
    unsynced: new Set(),
    nextId: 0,
    progressPending: false,
    catchUpTimer: undefined,
    progressTimer: undefined,
    progressJitter: hub.random(),
    closed: false,
    fail(err) {
      if (s.closed) return;
      stream.close();
      onClosed?.(err);
    },
  };
  hub.streams.add(s);

  const stream: WatchStream = {
    create(req: WatchCreateRequest) {
      if (!s.closed) createWatcher(hub, s, req);
    },

    refuse(cancelReason: string) {
      if (!s.closed) refuseCreate(hub, s, cancelReason);
    },

    cancel(watchId: number) {
      const w = s.watchers.get(watchId);
      if (s.closed || !w) return;
      removeWatcher(hub, w);
      s.watchers.delete(watchId);
      control(s, response(watchId, hub.store.currentRevision(), { canceled: true }));
      settleProgress(hub, s);
    },

    progress() {
      if (s.closed) return;
      s.progressPending = true;
      settleProgress(hub, s);
    },

    close() {
      if (!s.closed) closeStream(hub, s);
    },
  };
  return stream;
}

// A create request that makes no watcher: created and canceled, with the reason.
function refuseCreate(hub: HubState, s: Stream, cancelReason: string): void {
  const cur = hub.store.currentRevision();
  control(s, response(INVALID_WATCH_ID, cur, { created: true, canceled: true, cancelReason }));
}

function createWatcher(hub: HubState, s: Stream, req: WatchCreateRequest): void {
  const cur = hub.store.currentRevision();
  const keyBytes = req.key?.length ? req.key : new Uint8Array([0]);
  const endBytes = req.rangeEnd ?? EMPTY;
  const range = watchRange(keyBytes, endBytes);
  if (!range) return refuseCreate(hub, s, "mvcc: watcher range is empty");
  // etcd 3.4 reads watch_id 0 as "pick one".
  let id = req.watchId ?? 0;
  if (id !== 0 && s.watchers.has(id)) {
    return refuseCreate(hub, s, "mvcc: duplicate watch ID provided on the WatchStream");
  }
  if (id === 0) {
    while (s.watchers.has(s.nextId)) s.nextId++;
    id = s.nextId++;
  }
  const filters = req.filters ?? [];
  const w: Watcher = {
    ...range,
    id,
    stream: s,
    keyBytes,
    endBytes,
    nextRev: req.startRevision || cur + 1,
    state: "unsynced",
    noPut: filters.includes(FilterType.NOPUT),
    noDelete: filters.includes(FilterType.NODELETE),
    prevKv: req.prevKv ?? false,
    fragment: req.fragment ?? false,
    progressNotify: req.progressNotify ?? false,
    progressDue: true,
  };
  s.watchers.set(id, w);
  if (w.prevKv) hub.prevKvWatchers.add(w);
  control(s, response(id, cur, { created: true }));
  if (w.nextRev > cur) {
    w.state = "synced";
    hub.synced.add(w);
  } else {
    s.unsynced.add(w);
    scheduleCatchUp(hub, s);
  }
  if (w.progressNotify) armProgress(hub, s);
}

function closeStream(hub: HubState, s: Stream): void {
  s.closed = true;
  for (const w of s.watchers.values()) removeWatcher(hub, w);
  s.watchers.clear();
  s.queue.close();
  if (s.catchUpTimer !== undefined) hub.timers.clearTimeout(s.catchUpTimer);
  if (s.progressTimer !== undefined) hub.timers.clearTimeout(s.progressTimer);
  hub.streams.delete(s);
}
