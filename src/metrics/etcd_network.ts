// etcd 3.4's network families: client gRPC bytes and stream failures (v3rpc), and everything
// between members (rafthttp). Peers are labelled by their member ID in hex, as etcd prints it.

import { exponentialBuckets } from "./registry.ts";
import { counter, gauge, histogram } from "./define.ts";

/** Snapshot transfers: 100 ms to ~51 s, doubling. */
const SNAPSHOT_BUCKETS = exponentialBuckets(0.1, 2, 10);

export const networkMetrics = {
  clientGrpcReceivedBytes: counter(
    "etcd_network_client_grpc_received_bytes_total",
    "The total number of bytes received from grpc clients.",
  ),
  clientGrpcSentBytes: counter(
    "etcd_network_client_grpc_sent_bytes_total",
    "The total number of bytes sent to grpc clients.",
  ),
  /** Type "receive" or "send"; API "watch" or "lease-keepalive". */
  serverStreamFailures: counter(
    "etcd_network_server_stream_failures_total",
    "The total number of stream failures from the local server.",
    ["Type", "API"],
  ),
  activePeers: gauge(
    "etcd_network_active_peers",
    "The current number of active peer connections.",
    ["Local", "Remote"],
  ),
  disconnectedPeers: counter(
    "etcd_network_disconnected_peers_total",
    "The total number of disconnected peers.",
    ["Local", "Remote"],
  ),
  /** Bytes of raft messages and snapshots sent to a member. */
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
  peerReceivedFailures: counter(
    "etcd_network_peer_received_failures_total",
    "The total number of receive failures from peers.",
    ["From"],
  ),
  snapshotSend: counter(
    "etcd_network_snapshot_send_success",
    "Total number of successful snapshot sends",
    ["To"],
  ),
  snapshotSendInflights: gauge(
    "etcd_network_snapshot_send_inflights_total",
    "Total number of inflight snapshot sends",
    ["To"],
  ),
  snapshotSendFailures: counter(
    "etcd_network_snapshot_send_failures",
    "Total number of snapshot send failures",
    ["To"],
  ),
  snapshotSendSeconds: histogram(
    "etcd_network_snapshot_send_total_duration_seconds",
    "Total latency distributions of v3 snapshot sends",
    SNAPSHOT_BUCKETS,
    ["To"],
  ),
  snapshotReceive: counter(
    "etcd_network_snapshot_receive_success",
    "Total number of successful snapshot receives",
    ["From"],
  ),
  snapshotReceiveInflights: gauge(
    "etcd_network_snapshot_receive_inflights_total",
    "Total number of inflight snapshot receives",
    ["From"],
  ),
  snapshotReceiveFailures: counter(
    "etcd_network_snapshot_receive_failures",
    "Total number of snapshot receive failures",
    ["From"],
  ),
  snapshotReceiveSeconds: histogram(
    "etcd_network_snapshot_receive_total_duration_seconds",
    "Total latency distributions of v3 snapshot receives",
    SNAPSHOT_BUCKETS,
    ["From"],
  ),
  /** The smoothed round trip time of the prober, 0.1 ms to ~3.3 s. */
  peerRoundTripSeconds: histogram(
    "etcd_network_peer_round_trip_time_seconds",
    "Round-Trip-Time histogram between peers",
    exponentialBuckets(0.0001, 2, 16),
    ["To"],
  ),
};
