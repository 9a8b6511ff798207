// Durable raft state: the write-ahead log, snapshot files and the data dir lock.

export { createWal, DEFAULT_SEGMENT_SIZE, Wal, WalError, walExists } from "./wal.ts";
export type { WalOptions } from "./wal.ts";
export { openWal, validSnapshotEntries } from "./wal_open.ts";
export type { OpenedWal, WalRepair } from "./wal_open.ts";
export { Snapshotter } from "./snapshotter.ts";
export type { Purged } from "./purge.ts";
export { type DataDirLock, lockDataDir } from "./lock.ts";
export {
  denoFs,
  type StorageFile,
  type StorageFs,
  storageFs,
  type StorageOpenOptions,
  useStorageFs,
} from "./fs.ts";
export {
  type EtcdWal,
  EtcdWalError,
  type EtcdWalSnapshot,
  etcdWalSnapshots,
  readEtcdWal,
} from "./etcd_wal.ts";
export { loadNewestEtcdSnap } from "./etcd_snap.ts";
