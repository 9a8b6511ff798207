// Member-to-member traffic as etcd's rafthttp carries it: the peer transport (streams both
// ways, the pipeline, snapshot uploads), the peer listener (raft traffic in, /members,
// /version, /raft/probing), and the look-ups a starting member makes against its peers.
export { createPeerTransport, type PeerTransport, type PeerTransportOptions } from "./transport.ts";
export {
  createPeerHandler,
  type PeerListener,
  servePeer,
  type ServePeerOptions,
} from "./listener.ts";
export type { PeerReceiver } from "./raft_handlers.ts";
export {
  ERR_CLUSTER_EMPTY,
  ERR_CLUSTER_UNREACHABLE,
  fetchClusterFromPeers,
  fetchPeerVersion,
  isMemberBootstrapped,
  type PeerQueryOptions,
  type RemoteCluster,
} from "./bootstrap.ts";
export { formatMembersJSON, parseMembersJSON, type PeerMember } from "./members_json.ts";
export type { PeerClientTLS } from "./http1.ts";
export { MAX_QUEUED_MESSAGES } from "./stream_writer.ts";
export type { MergedSnapshot, SnapshotDatabase } from "./snapshot_sender.ts";
export { createLeaderClient, type LeaderClient } from "./leader_client.ts";
export type { PeerLeaderApi } from "./leader_handler.ts";
export type { PeerHashKV } from "./leader_wire.ts";
