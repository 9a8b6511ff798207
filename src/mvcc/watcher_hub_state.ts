// The watcher hub's own state: its watchers, its streams and what the hub shares between them.
//
// The hub's jobs (registering watchers on a stream, delivering notified events, catching
// unsynced watchers up from history, progress notifications) live in their own files and all
// work on one HubState, so that each can be read alone while the state they agree on is
// spelled out here once.

import type { KeyRange, WatcherGroup } from "./watcher_hub_group.ts";
import type { SendQueue } from "./watcher_hub_queue.ts";
import type { WatcherHubStore, WatcherHubTimers } from "./watcher_hub_types.ts";

export interface Watcher extends KeyRange {
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

export interface Stream {
  queue: SendQueue;
  watchers: Map<number, Watcher>;
  unsynced: Set<Watcher>;
  nextId: number;
  // A progress request waits until every watcher of the stream is synced.
  progressPending: boolean;
  catchUpTimer: unknown;
  progressTimer: unknown;
  // This stream's share of the progress jitter, in [0, 1).
  progressJitter: number;
  closed: boolean;
  // Closes the stream from the hub's side and tells the transport why.
  fail(err: unknown): void;
}

export interface HubState {
  readonly store: WatcherHubStore;
  readonly timers: WatcherHubTimers;
  // Set at start-up from --experimental-watch-progress-notify-interval.
  progressIntervalMs: number;
  readonly random: () => number;
  readonly maxResponseBytes: number;
  readonly bufferBytes: number;
  // Catch-up reads more only while a stream's buffer holds at most this many bytes.
  readonly catchUpRoom: number;
  readonly batchEvents: number;
  readonly synced: WatcherGroup<Watcher>;
  readonly streams: Set<Stream>;
  // Watchers that asked for prev_kv: while there are none, the apply path skips reading it.
  readonly prevKvWatchers: Set<Watcher>;
  // The highest revision passed to notify: every synced watcher has seen up to it.
  lastRev: number;
}
