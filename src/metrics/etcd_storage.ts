// etcd 3.4's storage families: the WAL and backend disk latencies (wal, mvcc/backend), raft
// snapshot files (snap), and the key space (mvcc).

import { exponentialBuckets } from "./registry.ts";
import { counter, gauge, histogram } from "./define.ts";

/** etcd's disk latency buckets: 1 ms to ~8 s, doubling. */
const DISK_BUCKETS = exponentialBuckets(0.001, 2, 14);
/** Whole-database operations: from 100 ms, doubling. */
const DB_BUCKETS = (count: number) => exponentialBuckets(0.1, 2, count);

export const diskMetrics = {
  walFsyncSeconds: histogram(
    "etcd_disk_wal_fsync_duration_seconds",
    "The latency distributions of fsync called by WAL.",
    DISK_BUCKETS,
  ),
  // A gauge in etcd, though it only grows.
  walWriteBytes: gauge("etcd_disk_wal_write_bytes_total", "Total number of bytes written in WAL."),
  backendCommitSeconds: histogram(
    "etcd_disk_backend_commit_duration_seconds",
    "The latency distributions of commit called by backend.",
    DISK_BUCKETS,
  ),
  // bbolt's commit phases. SQLite rebalances and spills its B-tree within each statement, not at
  // commit, so at commit those two phases take no time; "write" is the COMMIT itself.
  backendCommitRebalanceSeconds: histogram(
    "etcd_debugging_disk_backend_commit_rebalance_duration_seconds",
    "The latency distributions of commit.rebalance called by bboltdb backend.",
    DISK_BUCKETS,
  ),
  backendCommitSpillSeconds: histogram(
    "etcd_debugging_disk_backend_commit_spill_duration_seconds",
    "The latency distributions of commit.spill called by bboltdb backend.",
    DISK_BUCKETS,
  ),
  backendCommitWriteSeconds: histogram(
    "etcd_debugging_disk_backend_commit_write_duration_seconds",
    "The latency distributions of commit.write called by bboltdb backend.",
    DISK_BUCKETS,
  ),
  defragSeconds: histogram(
    "etcd_disk_backend_defrag_duration_seconds",
    "The latency distribution of backend defragmentation.",
    DB_BUCKETS(13),
  ),
  /** A backend snapshot written out (Maintenance.Snapshot, or a snapshot sent to a peer). */
  snapshotSeconds: histogram(
    "etcd_disk_backend_snapshot_duration_seconds",
    "The latency distribution of backend snapshots.",
    exponentialBuckets(0.01, 2, 17),
  ),
  defragInflight: gauge(
    "etcd_disk_defrag_inflight",
    "Whether or not defrag is active on the member. 1 means active, 0 means not.",
  ),
};

export const snapMetrics = {
  /** Raft snapshot files (member/snap/*.snap). */
  marshallingSeconds: histogram(
    "etcd_debugging_snap_save_marshalling_duration_seconds",
    "The marshalling cost distributions of save called by snapshot.",
    DISK_BUCKETS,
  ),
  saveSeconds: histogram(
    "etcd_debugging_snap_save_total_duration_seconds",
    "The total latency distributions of save called by snapshot.",
    DISK_BUCKETS,
  ),
  fsyncSeconds: histogram(
    "etcd_snap_fsync_duration_seconds",
    "The latency distributions of fsync called by snap.",
    DISK_BUCKETS,
  ),
  /** The backend received from the leader (member/snap/*.snap.db). */
  dbSaveSeconds: histogram(
    "etcd_snap_db_save_total_duration_seconds",
    "The total latency distributions of v3 snapshot save",
    DB_BUCKETS(10),
  ),
  dbFsyncSeconds: histogram(
    "etcd_snap_db_fsync_duration_seconds",
    "The latency distributions of fsyncing .snap.db file",
    DISK_BUCKETS,
  ),
};

// etcd 3.4 exports the ops counters twice, under etcd_mvcc_ and the older etcd_debugging_mvcc_.
const twice = (name: string, help: string) =>
  [
    counter(`etcd_mvcc_${name}`, help),
    counter(`etcd_debugging_mvcc_${name}`, help),
  ] as const;

export const mvccMetrics = {
  range: twice("range_total", "Total number of ranges seen by this member."),
  put: twice("put_total", "Total number of puts seen by this member."),
  delete: twice("delete_total", "Total number of deletes seen by this member."),
  txn: twice("txn_total", "Total number of txns seen by this member."),
  totalPutSize: gauge(
    "etcd_debugging_mvcc_total_put_size_in_bytes",
    "The total size of put kv pairs seen by this member.",
  ),
  keysTotal: gauge("etcd_debugging_mvcc_keys_total", "Total number of keys."),
  watchStreams: gauge("etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams."),
  watchers: gauge("etcd_debugging_mvcc_watcher_total", "Total number of watchers."),
  slowWatchers: gauge(
    "etcd_debugging_mvcc_slow_watcher_total",
    "Total number of unsynced slow watchers.",
  ),
  events: counter(
    "etcd_debugging_mvcc_events_total",
    "Total number of events sent by this member.",
  ),
  pendingEvents: gauge(
    "etcd_debugging_mvcc_pending_events_total",
    "Total number of pending events to be sent.",
  ),
  // Compaction durations are whole milliseconds, as etcd truncates them.
  indexCompactionPauseMs: histogram(
    "etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds",
    "Bucketed histogram of index compaction pause duration.",
    exponentialBuckets(0.5, 2, 14),
  ),
  dbCompactionPauseMs: histogram(
    "etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds",
    "Bucketed histogram of db compaction pause duration.",
    exponentialBuckets(1, 2, 13),
  ),
  dbCompactionTotalMs: histogram(
    "etcd_debugging_mvcc_db_compaction_total_duration_milliseconds",
    "Bucketed histogram of db compaction total duration.",
    exponentialBuckets(100, 2, 14),
  ),
  dbCompactionKeys: counter(
    "etcd_debugging_mvcc_db_compaction_keys_total",
    "Total number of db keys compacted.",
  ),
  dbTotalSize: gauge(
    "etcd_mvcc_db_total_size_in_bytes",
    "Total size of the underlying database physically allocated in bytes.",
  ),
  // The older name etcd 3.4 still exports (and its Grafana dashboard plots).
  dbTotalSizeDebugging: gauge(
    "etcd_debugging_mvcc_db_total_size_in_bytes",
    "Total size of the underlying database physically allocated in bytes.",
  ),
  dbTotalSizeInUse: gauge(
    "etcd_mvcc_db_total_size_in_use_in_bytes",
    "Total size of the underlying database logically in use in bytes.",
  ),
  dbOpenReadTxn: gauge(
    "etcd_mvcc_db_open_read_transactions",
    "The number of currently open read transactions",
  ),
  hashSeconds: histogram(
    "etcd_mvcc_hash_duration_seconds",
    "The latency distribution of storage hash operation.",
    exponentialBuckets(0.01, 2, 15),
  ),
  hashRevSeconds: histogram(
    "etcd_mvcc_hash_rev_duration_seconds",
    "The latency distribution of storage hash by revision operation.",
    exponentialBuckets(0.01, 2, 15),
  ),
  currentRevision: gauge("etcd_debugging_mvcc_current_revision", "The current revision of store."),
  compactRevision: gauge(
    "etcd_debugging_mvcc_compact_revision",
    "The revision of the last compaction in store.",
  ),
};

/** etcd's metricsTxnWrite: what one txn did, added to the families when it ends. */
export class TxnTally {
  ranges = 0;
  puts = 0;
  deletes = 0;
  putSize = 0;

  put(key: Uint8Array, value: Uint8Array): void {
    this.puts++;
    this.putSize += key.length + value.length;
  }

  end(): void {
    const m = mvccMetrics;
    // A txn counts as one when it did more than one thing.
    if (this.ranges + this.puts + this.deletes > 1) { for (const c of m.txn) c.inc(); }
    for (const c of m.range) c.inc(this.ranges);
    for (const c of m.put) c.inc(this.puts);
    for (const c of m.delete) c.inc(this.deletes);
    m.totalPutSize.inc(this.putSize);
  }
}

/** One range outside any multi-step txn (etcd's read view: a read txn of one range). */
export function countRange(): void {
  for (const c of mvccMetrics.range) c.inc();
}

/** One backend commit of `seconds` (see the bbolt phase histograms for how they are split). */
export function observeBackendCommit(seconds: number): void {
  const d = diskMetrics;
  d.backendCommitSeconds.observe(seconds);
  d.backendCommitRebalanceSeconds.observe(0);
  d.backendCommitSpillSeconds.observe(0);
  d.backendCommitWriteSeconds.observe(seconds);
}
