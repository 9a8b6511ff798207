// Shapes the watcher hub works with. KeyValue, Event and EventType are the store's own.

import type { Event } from "./types.ts";

export { EventType } from "./types.ts";
export type { Event, KeyValue } from "./types.ts";

// etcdserverpb.WatchCreateRequest.FilterType
export enum FilterType {
  NOPUT = 0,
  NODELETE = 1,
}

// A decoded etcdserverpb.WatchCreateRequest; omitted fields take their proto3 defaults.
export interface WatchCreateRequest {
  key?: Uint8Array;
  rangeEnd?: Uint8Array;
  startRevision?: number;
  progressNotify?: boolean;
  filters?: number[];
  prevKv?: boolean;
  watchId?: number;
  fragment?: boolean;
}

// An etcdserverpb.WatchResponse without the header fields the transport fills in
// (cluster_id, member_id, raft_term).
export interface WatchResponse {
  header: { revision: number };
  watchId: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  fragment: boolean;
  events: Event[];
}

export interface HistoryResult {
  events: Event[];
}

export interface WatcherHubStore {
  // The store's current revision; includes every revision already passed to notify().
  currentRevision(): number;
  // The revision of the last compaction (0 before any).
  compactRevision(): number;
  // Events on keys in [key, rangeEnd) with fromRev <= modRevision <= toRev, in revision order
  // (within a revision, in the order the txn applied them), each PUT or DELETE carrying the
  // key's previous version as prevKv when it had one. rangeEnd follows Range: empty = the
  // single key, [0] = every key >= key. At most `limit` events (0 = no limit).
  history(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    fromRev: number,
    toRev: number,
    limit: number,
  ): HistoryResult;
}

export interface WatcherHubTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface WatcherHubOptions {
  // Period of progress notifications for watchers that asked for them (etcd: 10 minutes).
  progressIntervalMs?: number;
  // Draws each stream's progress jitter (Math.random by default).
  random?: () => number;
  // Responses of watchers that asked for fragments are split below this encoded size
  // (etcd: --max-request-bytes + 512 bytes of gRPC overhead).
  maxResponseBytes?: number;
  // Encoded bytes a stream may have waiting to be sent before its watchers fall behind and
  // continue from history. One response larger than this still goes out on its own.
  streamBufferBytes?: number;
  // Events read from history per catch-up step.
  catchUpBatchEvents?: number;
  timers?: WatcherHubTimers;
}

// `send` delivers one response to the client; the returned promise resolves when the
// transport can take the next one (rejecting closes the stream).
export type WatchSend = (resp: WatchResponse) => Promise<void> | void;

export interface WatchStream {
  create(req: WatchCreateRequest): void;
  /** Answers a create request the caller turned down: created and canceled, with the reason. */
  refuse(cancelReason: string): void;
  cancel(watchId: number): void;
  progress(): void;
  close(): void;
}

export interface WatcherHubStats {
  streams: number;
  syncedWatchers: number;
  unsyncedWatchers: number;
  // Responses and their encoded bytes waiting in stream buffers, over all streams.
  bufferedResponses: number;
  bufferedBytes: number;
  bufferedEvents: number;
}

export interface WatcherHub {
  notify(rev: number, events: Event[]): void;
  // Whether any watcher asked for prev_kv: events passed to notify must carry it only then.
  wantsPrevKv(): boolean;
  // `onClosed` runs when the hub ends the stream itself: `send` failed, or reading history
  // did; the transport then ends the gRPC call.
  createStream(send: WatchSend, onClosed?: (err: unknown) => void): WatchStream;
  // After the store was replaced (a raft snapshot): every watcher re-reads from history.
  resync(): void;
  // etcd's SetProgressReportInterval: the period of progress notifications from now on.
  setProgressInterval(ms: number): void;
  stats(): WatcherHubStats;
}
