// The watcher hub: etcd's watchable store, fed by the apply path and read by Watch streams.
//
// A watcher is either synced (it has every event up to the last notified revision and gets
// new ones straight from notify) or unsynced (it is behind, at `nextRev`, and a catch-up step
// reads its events from the store's history). notify() never waits for a client: when a
// stream's send buffer is full, the watchers it would grow fall behind instead, remembering
// only the revision to resume from, so memory stays bounded whatever the client does. Catch-up
// runs when the stream has room again, in bounded chunks that never split a revision, and a
// watcher rejoins the synced group in the same synchronous step that reads up to the store's
// current revision, so no revision is missed or delivered twice.

import { fragmentResponse, responseSize } from "./watcher_hub_size.ts";
import { bytesToBinary } from "./key_range.ts";
import { type KeyRange, WatcherGroup, watchRange } from "./watcher_hub_group.ts";
import { SendQueue } from "./watcher_hub_queue.ts";
import {
  type Event,
  EventType,
  FilterType,
  type WatchCreateRequest,
  type WatcherHub,
  type WatcherHubOptions,
  type WatcherHubStore,
  type WatchResponse,
  type WatchSend,
  type WatchStream,
} from "./watcher_hub_types.ts";

export const DEFAULT_PROGRESS_INTERVAL_MS = 10 * 60 * 1000;
// etcd's default --max-request-bytes (1.5 MiB) plus its 512 bytes of gRPC overhead.
export const DEFAULT_MAX_RESPONSE_BYTES = 1.5 * 1024 * 1024 + 512;
export const DEFAULT_STREAM_BUFFER_BYTES = 1024 * 1024;
export const DEFAULT_CATCH_UP_BATCH_EVENTS = 1000;

// etcd's clientv3.InvalidWatchID: failed creates and stream-wide progress responses.
const INVALID_WATCH_ID = -1;
const EMPTY = new Uint8Array();

interface Watcher extends KeyRange {
  id: number;
  stream: Stream;
  // key and range_end as history() takes them (Range's convention).
  keyBytes: Uint8Array;
  endBytes: Uint8Array;
  // The first revision this watcher has not been given yet (a lower bound while synced).
  nextRev: number;
  // compacted: canceled by compaction; its ID stays taken until the client cancels it.
  state: "synced" | "unsynced" | "compacted" | "canceled";
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  fragment: boolean;
  progressNotify: boolean;
  // No events went out since the last progress tick.
  progressDue: boolean;
}

interface Stream {
  queue: SendQueue;
  watchers: Map<number, Watcher>;
  unsynced: Set<Watcher>;
  nextId: number;
  // A progress request waits until every watcher of the stream is synced.
  progressPending: boolean;
  catchUpTimer: unknown;
  progressTimer: unknown;
  closed: boolean;
  // Closes the stream from the hub's side and tells the transport why.
  fail(err: unknown): void;
}

export function createWatcherHub(
  store: WatcherHubStore,
  options: WatcherHubOptions = {},
): WatcherHub {
  const progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const bufferBytes = options.streamBufferBytes ?? DEFAULT_STREAM_BUFFER_BYTES;
  // Catch-up reads more only while the buffer is at most half full.
  const catchUpRoom = bufferBytes / 2;
  const batchEvents = options.catchUpBatchEvents ?? DEFAULT_CATCH_UP_BATCH_EVENTS;
  const timers = options.timers ?? {
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (h: unknown) => clearTimeout(h as number),
  };

  const synced = new WatcherGroup<Watcher>();
  const streams = new Set<Stream>();
  const prevKvWatchers = new Set<Watcher>();
  // The highest revision passed to notify: every synced watcher has seen up to it.
  let lastRev = store.currentRevision();

  const response = (watchId: number, rev: number, fields: Partial<WatchResponse> = {}) => ({
    header: { revision: rev },
    watchId,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: "",
    fragment: false,
    events: [],
    ...fields,
  });

  const control = (s: Stream, resp: WatchResponse) => s.queue.push(resp, responseSize(resp));

  // Queues a watcher's share of `events` (filters and prev_kv applied). Unless forced, refuses
  // when the stream's buffer is full, and then queues nothing.
  const deliver = (w: Watcher, events: Event[], rev: number, force: boolean): boolean => {
    const selected: Event[] = [];
    for (const ev of events) {
      if (ev.type === EventType.PUT ? w.noPut : w.noDelete) continue;
      selected.push(w.prevKv || !ev.prevKv ? ev : { type: ev.type, kv: ev.kv });
    }
    if (selected.length === 0) return true;
    const whole = response(w.id, rev, { events: selected });
    const parts = w.fragment ? fragmentResponse(whole, maxResponseBytes) : [whole];
    const sizes = parts.map(responseSize);
    const total = sizes.reduce((a, b) => a + b, 0);
    const q = w.stream.queue;
    if (!force && q.length > 0 && q.bytes + total > bufferBytes) return false;
    parts.forEach((p, i) => q.push(p, sizes[i]));
    w.progressDue = false;
    return true;
  };

  const settleProgress = (s: Stream) => {
    if (s.progressPending && s.unsynced.size === 0) {
      s.progressPending = false;
      control(s, response(INVALID_WATCH_ID, store.currentRevision()));
    }
  };

  const toSynced = (w: Watcher) => {
    w.stream.unsynced.delete(w);
    w.state = "synced";
    synced.add(w);
    settleProgress(w.stream);
  };

  const toUnsynced = (w: Watcher, nextRev: number) => {
    synced.delete(w);
    w.state = "unsynced";
    w.nextRev = nextRev;
    w.stream.unsynced.add(w);
  };

  const scheduleCatchUp = (s: Stream) => {
    if (s.closed || s.catchUpTimer !== undefined) return;
    s.catchUpTimer = timers.setTimeout(() => {
      s.catchUpTimer = undefined;
      catchUp(s);
    }, 0);
  };

  // One pass over the stream's unsynced watchers, one history chunk each, while there is room.
  // Yields to the event loop between passes.
  const catchUp = (s: Stream) => {
    for (const w of [...s.unsynced]) {
      if (s.closed || s.queue.bytes > catchUpRoom) return;
      if (w.state !== "unsynced") continue;
      try {
        catchUpStep(w);
      } catch (err) {
        // The store failed to serve history (compaction cannot: it is checked first). Ending
        // the stream lets the client re-watch, instead of losing events silently.
        s.fail(err);
        return;
      }
    }
    if (s.unsynced.size > 0 && s.queue.bytes <= catchUpRoom) scheduleCatchUp(s);
  };

  const catchUpStep = (w: Watcher) => {
    const s = w.stream;
    const cur = store.currentRevision();
    const compactRev = store.compactRevision();
    if (w.nextRev < compactRev) {
      s.unsynced.delete(w);
      w.state = "compacted";
      // etcd sends this one with header revision 0.
      control(s, response(w.id, 0, { canceled: true, compactRevision: compactRev }));
      settleProgress(s);
      return;
    }
    if (w.nextRev > cur) return toSynced(w);
    let { events } = store.history(w.keyBytes, w.endBytes, w.nextRev, cur, batchEvents);
    let upTo = cur;
    if (events.length >= batchEvents) {
      // Possibly cut short: never hand out part of a revision.
      const last = events[events.length - 1].kv.modRevision;
      if (events[0].kv.modRevision === last) {
        events = store.history(w.keyBytes, w.endBytes, last, last, 0).events;
        upTo = last;
      } else {
        let end = events.length;
        while (events[end - 1].kv.modRevision === last) end--;
        events = events.slice(0, end);
        upTo = last - 1;
      }
    }
    checkHistory(events, w.nextRev, upTo);
    deliver(w, events, cur, true);
    w.nextRev = upTo + 1;
    if (w.nextRev > cur) toSynced(w);
  };

  const removeWatcher = (w: Watcher) => {
    prevKvWatchers.delete(w);
    if (w.state === "synced") synced.delete(w);
    w.stream.unsynced.delete(w);
    w.state = "canceled";
  };

  const progressTick = (s: Stream) => {
    s.progressTimer = undefined;
    if (s.closed) return;
    const rev = store.currentRevision();
    let any = false;
    for (const w of s.watchers.values()) {
      if (!w.progressNotify || w.state === "compacted") continue;
      any = true;
      // Only a synced watcher may claim it has everything up to the current revision; like
      // etcd, a notification that does not fit in the buffer is dropped.
      if (w.progressDue && w.state === "synced" && s.queue.bytes < bufferBytes) {
        control(s, response(w.id, rev));
      }
      w.progressDue = true;
    }
    if (any) armProgress(s);
  };

  const armProgress = (s: Stream) => {
    if (s.closed || s.progressTimer !== undefined) return;
    s.progressTimer = timers.setTimeout(() => progressTick(s), progressIntervalMs);
  };

  const createStream = (send: WatchSend, onClosed?: (err: unknown) => void): WatchStream => {
    const s: Stream = {
      queue: new SendQueue(send, () => {
        if (s.unsynced.size > 0 && s.queue.bytes <= catchUpRoom) scheduleCatchUp(s);
      }, (err) => s.fail(err)),
      watchers: new Map(),
      unsynced: new Set(),
      nextId: 0,
      progressPending: false,
      catchUpTimer: undefined,
      progressTimer: undefined,
      closed: false,
      fail(err) {
        if (s.closed) return;
        stream.close();
        onClosed?.(err);
      },
    };
    streams.add(s);

    const stream: WatchStream = {
      create(req: WatchCreateRequest) {
        if (s.closed) return;
        const cur = store.currentRevision();
        const keyBytes = req.key?.length ? req.key : new Uint8Array([0]);
        const endBytes = req.rangeEnd ?? EMPTY;
        const range = watchRange(keyBytes, endBytes);
        const refuse = (cancelReason: string) =>
          control(
            s,
            response(INVALID_WATCH_ID, cur, { created: true, canceled: true, cancelReason }),
          );
        if (!range) return refuse("mvcc: watcher range is empty");
        // etcd 3.4 reads watch_id 0 as "pick one".
        let id = req.watchId ?? 0;
        if (id !== 0 && s.watchers.has(id)) {
          return refuse("mvcc: duplicate watch ID provided on the WatchStream");
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
        if (w.prevKv) prevKvWatchers.add(w);
        control(s, response(id, cur, { created: true }));
        if (w.nextRev > cur) {
          w.state = "synced";
          synced.add(w);
        } else {
          s.unsynced.add(w);
          scheduleCatchUp(s);
        }
        if (w.progressNotify) armProgress(s);
      },

      refuse(cancelReason: string) {
        if (s.closed) return;
        const cur = store.currentRevision();
        control(
          s,
          response(INVALID_WATCH_ID, cur, { created: true, canceled: true, cancelReason }),
        );
      },

      cancel(watchId: number) {
        const w = s.watchers.get(watchId);
        if (s.closed || !w) return;
        removeWatcher(w);
        s.watchers.delete(watchId);
        control(s, response(watchId, store.currentRevision(), { canceled: true }));
        settleProgress(s);
      },

      progress() {
        if (s.closed) return;
        s.progressPending = true;
        settleProgress(s);
      },

      close() {
        if (s.closed) return;
        s.closed = true;
        for (const w of s.watchers.values()) removeWatcher(w);
        s.watchers.clear();
        s.queue.close();
        if (s.catchUpTimer !== undefined) timers.clearTimeout(s.catchUpTimer);
        if (s.progressTimer !== undefined) timers.clearTimeout(s.progressTimer);
        streams.delete(s);
      },
    };
    return stream;
  };

  return {
    notify(rev: number, events: Event[]) {
      const cur = store.currentRevision();
      if (rev > cur) {
        throw new Error(`watcher hub: notify(${rev}) ahead of the store's revision ${cur}`);
      }
      if (rev > lastRev) lastRev = rev;
      if (synced.size === 0) return;
      const batches = new Map<Watcher, Event[]>();
      for (const ev of events) {
        const key = bytesToBinary(ev.kv.key);
        for (const w of synced.watching(key)) {
          if (ev.kv.modRevision < w.nextRev) continue;
          const batch = batches.get(w);
          if (batch) batch.push(ev);
          else batches.set(w, [ev]);
        }
      }
      for (const [w, batch] of batches) {
        if (!deliver(w, batch, rev, false)) toUnsynced(w, rev);
      }
    },

    wantsPrevKv: () => prevKvWatchers.size > 0,

    createStream,

    resync() {
      for (const w of [...synced.all()]) {
        toUnsynced(w, Math.max(w.nextRev, lastRev + 1));
        scheduleCatchUp(w.stream);
      }
    },

    stats() {
      let unsynced = 0, bufferedResponses = 0, bufferedBytes = 0;
      for (const s of streams) {
        unsynced += s.unsynced.size;
        bufferedResponses += s.queue.length;
        bufferedBytes += s.queue.bytes;
      }
      return {
        streams: streams.size,
        syncedWatchers: synced.size,
        unsyncedWatchers: unsynced,
        bufferedResponses,
        bufferedBytes,
      };
    },
  };
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
