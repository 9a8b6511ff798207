// The member's own families (etcd's etcdserver, etcdhttp, membership, v3rpc, lease and auth
// packages), with etcd 3.4's names, HELP texts, labels and buckets. The member's code updates
// counters and histograms where the events happen; gauges of the member's state are read at
// scrape time (server/metrics.ts). Storage and network families have their own files.

import { exponentialBuckets } from "./registry.ts";
import { counter, gauge, histogram } from "./define.ts";

export const serverMetrics = {
  raftLogEntries: gauge(
    "etcd_debugging_server_raft_log_entries",
    "The number of raft log entries held in memory (up to --snapshot-count plus 5000 after a snapshot).",
  ),
  raftLogBytes: gauge(
    "etcd_debugging_server_raft_log_bytes",
    "Bytes of memory holding the data of the raft log entries kept in memory.",
  ),
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
  learnerPromoteFailed: counter(
    "etcd_server_learner_promote_failures",
    "The total number of failed learner promotions (likely learner not ready) while this member is leader.",
    ["Reason"],
  ),
  learnerPromoteSucceed: counter(
    "etcd_server_learner_promote_successes",
    "The total number of successful learner promotions while this member is leader.",
  ),
  heartbeatSendFailures: counter(
    "etcd_server_heartbeat_send_failures_total",
    "The total number of leader heartbeat send failures (likely overloaded from slow disk).",
  ),
  slowApplies: counter(
    "etcd_server_slow_apply_total",
    "The total number of slow apply requests (likely overloaded from slow disk).",
  ),
  applySnapshotInProgress: gauge(
    "etcd_server_snapshot_apply_in_progress_total",
    "1 if the server is applying the incoming snapshot. 0 if none.",
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
  slowReadIndex: counter(
    "etcd_server_slow_read_indexes_total",
    "The total number of pending read indexes not in sync with leader's or timed out read index requests.",
  ),
  readIndexFailed: counter(
    "etcd_server_read_indexes_failed_total",
    "The total number of failed read indexes seen.",
  ),
  leaseExpired: counter(
    "etcd_debugging_server_lease_expired_total",
    "The total number of expired leases.",
  ),
  quotaBackendBytes: gauge(
    "etcd_server_quota_backend_bytes",
    "Current backend storage quota size in bytes.",
  ),
  version: gauge(
    "etcd_server_version",
    "Which version is running. 1 for 'server_version' label with current version.",
    ["server_version"],
  ),
  // etcd names its Go runtime here; etcd-ts names its runtime (Deno) the same way.
  goVersion: gauge(
    "etcd_server_go_version",
    "Which Go version server is running with. 1 for 'server_go_version' label with current version.",
    ["server_go_version"],
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
  healthSuccess: counter(
    "etcd_server_health_success",
    "The total number of successful health checks",
  ),
  healthFailed: counter(
    "etcd_server_health_failures",
    "The total number of failed health checks",
  ),
  /** Per gRPC call: type "unary" or "stream", the client's client-api-version or "unknown". */
  clientRequests: counter(
    "etcd_server_client_requests_total",
    "The total number of client requests per client version.",
    ["type", "client_api_version"],
  ),
};
serverMetrics.goVersion.labels({ server_go_version: `deno${Deno.version.deno}` }).set(1);

export const leaseMetrics = {
  granted: counter("etcd_debugging_lease_granted_total", "The total number of granted leases."),
  revoked: counter("etcd_debugging_lease_revoked_total", "The total number of revoked leases."),
  renewed: counter(
    "etcd_debugging_lease_renewed_total",
    "The number of renewed leases seen by the leader.",
  ),
  /** Granted TTLs: 1 second to 3 months. */
  ttl: histogram(
    "etcd_debugging_lease_ttl_total",
    "Bucketed histogram of lease TTLs.",
    exponentialBuckets(1, 2, 24),
  ),
};

export const authMetrics = {
  revision: gauge("etcd_debugging_auth_revision", "The current revision of auth store."),
};
