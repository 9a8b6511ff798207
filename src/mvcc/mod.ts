// The revisioned key space (etcd's mvcc package) on node:sqlite.
export { MvccError, type MvccErrorReason } from "./errors.ts";
export type { EventListener, HashKV, ReadTxn, StoreOptions } from "./kv.ts";
export type { CompactionBatch } from "./compact.ts";
export { MvccStore } from "./store.ts";
export { restoreSnapshot } from "./restore.ts";
export type { WriteTxn } from "./write_txn.ts";
export type { HistoryCursor, HistoryPoint, StoredChange } from "./stored_history.ts";
export { parseRevisionKey, revisionKey, storedKeyValue } from "./revision_key.ts";
export { EventType } from "./types.ts";
export type { Event, KeyValue, RangeOptions, RangeResult } from "./types.ts";
export {
  binaryToBytes,
  bytesEqual,
  bytesToBinary,
  compareBytes,
  keyRange,
  prefixEnd,
} from "./key_range.ts";
export type { KeyRange } from "./key_range.ts";
export type { AuxBuckets } from "./aux.ts";
export { createWatcherHub } from "./watcher_hub.ts";
export { FilterType } from "./watcher_hub_types.ts";
export type {
  WatchCreateRequest,
  WatcherHub,
  WatcherHubOptions,
  WatchResponse,
  WatchStream,
} from "./watcher_hub_types.ts";
