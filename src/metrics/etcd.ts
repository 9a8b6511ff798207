// The metric families etcd 3.4 exports, with its names, HELP texts, labels and buckets, in one
// process-wide registry (etcd's is process-wide too). The member's code updates the counters
// and histograms where the events happen; gauges of the member's state are read at scrape time
// (member.ts).

import { Counter, exponentialBuckets, Gauge, Histogram, Registry } from "./registry.ts";
import { registerProcessMetrics } from "./process.ts";

export const registry = new Registry();
registerProcessMetrics(registry);

const counter = <L extends string = never>(name: string, help: string, labelNames?: L[]) =>
  registry.register(new Counter<L>({ name, help, labelNames }));
const gauge = <L extends string = never>(name: string, help: string, labelNames?: L[]) =>
  registry.register(new Gauge<L>({ name, help, labelNames }));
const histogram = <L extends string = never>(
  name: string,
  help: string,
  buckets: number[],
  labelNames?: L[],
) => registry.register(new Histogram<L>({ name, help, buckets, labelNames }));

/** etcd's disk latency buckets: 1 ms to ~8 s, doubling. */
const DISK_BUCKETS = exponentialBuckets(0.001, 2, 14);

export const serverMetrics = {
  hasLeader: gauge(
    "etcd_server_has_leader",
    "Whether or not a leader exists. 1 is existence, 0 is not.",
  ),
  isLeader: gauge(
    "etcd_server_is_leader",
    "Whether or not this member is a leader. 1 if is, 0 otherwise.",
  ),
  isLearner: gauge(
    "etcd_server_is_learner",
    "Whether or not this member is a learner. 1 if is, 0 otherwise.",
  ),
  leaderChanges: counter(
    "etcd_server_leader_changes_seen_total",
    "The number of leader changes seen.",
  ),
  // etcd declares these two as gauges (they are set to raft indexes), despite the _total.
  proposalsCommitted: gauge(
    "etcd_server_proposals_committed_total",
    "The total number of consensus proposals committed.",
  ),
  proposalsApplied: gauge(
    "etcd_server_proposals_applied_total",
    "The total number of consensus proposals applied.",
  ),
  proposalsPending: gauge(
    "etcd_server_proposals_pending",
    "The current number of pending proposals to commit.",
  ),
  proposalsFailed: counter(
    "etcd_server_proposals_failed_total",
    "The total number of failed proposals seen.",
  ),
  version: gauge(
    "etcd_server_version",
    "Which version is running. 1 for 'server_version' label with current version.",
    ["server_version"],
  ),
  id: gauge(
    "etcd_server_id",
    "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
    ["server_id"],
  ),
  clusterVersion: gauge(
    "etcd_cluster_version",
    "Which version is running. 1 for 'cluster_version' label with current cluster version",
    ["cluster_version"],
  ),
  quotaBackendBytes: gauge(
    "etcd_server_quota_backend_bytes",
    "Current backend storage quota size in bytes.",
  ),
  slowApplies: counter(
    "etcd_server_slow_apply_total",
    "The total number of slow apply requests (likely overloaded from slow disk).",
  ),
};

export const diskMetrics = {
  walFsyncSeconds: histogram(
    "etcd_disk_wal_fsync_duration_seconds",
    "The latency distributions of fsync called by WAL.",
    DISK_BUCKETS,
  ),
  backendCommitSeconds: histogram(
    "etcd_disk_backend_commit_duration_seconds",
    "The latency distributions of commit called by backend.",
    DISK_BUCKETS,
  ),
};

export const mvccMetrics = {
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
  keysTotal: gauge("etcd_debugging_mvcc_keys_total", "Total number of keys."),
  currentRevision: gauge(
    "etcd_debugging_mvcc_current_revision",
    "The current revision of store.",
  ),
  compactRevision: gauge(
    "etcd_debugging_mvcc_compact_revision",
    "The revision of the last compaction in store.",
  ),
  // Physical compaction, in whole milliseconds as etcd observes them.
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
};

export const networkMetrics = {
  clientGrpcReceivedBytes: counter(
    "etcd_network_client_grpc_received_bytes_total",
    "The total number of bytes received from grpc clients.",
  ),
  clientGrpcSentBytes: counter(
    "etcd_network_client_grpc_sent_bytes_total",
    "The total number of bytes sent to grpc clients.",
  ),
  /** For the peer transport: bytes of raft messages and snapshots sent to a member (hex ID). */
  peerSentBytes: counter(
    "etcd_network_peer_sent_bytes_total",
    "The total number of bytes sent to peers.",
    ["To"],
  ),
  peerReceivedBytes: counter(
    "etcd_network_peer_received_bytes_total",
    "The total number of bytes received from peers.",
    ["From"],
  ),
  peerSentFailures: counter(
    "etcd_network_peer_sent_failures_total",
    "The total number of send failures from peers.",
    ["To"],
  ),
  peerRoundTripSeconds: histogram(
    "etcd_network_peer_round_trip_time_seconds",
    "Round-Trip-Time histogram between peers",
    exponentialBuckets(0.0001, 2, 14),
    ["To"],
  ),
};
