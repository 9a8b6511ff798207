// One member: Raft driven to disk and to peers, the apply path, and the operations the client
// API offers on top of them.
export { EtcdServer } from "./server.ts";
export type { RaftPeer } from "./raft_peer.ts";
export { GRPC_OVERHEAD_BYTES, type ServerOptions } from "./options.ts";
export type { ResponseHeader } from "./header.ts";
export type { LeaderClient } from "./forward.ts";
export { computeClusterId, computeMemberId, formatId, parseId } from "./ids.ts";
export { type Member, Membership } from "./membership.ts";
export { AlarmAction, type AlarmMember, AlarmType } from "./alarms.ts";
export { announceCapabilities } from "./apply/mod.ts";
export { BootstrapError, checkInitialCluster, formatInitialCluster } from "./bootstrap_check.ts";
export {
  bootstrapMember,
  isInitialized,
  joinMember,
  memberPaths,
  type MemberState,
  restartMember,
} from "./member_state.ts";
export type { AuthApi, AuthChange } from "./auth.ts";
export type { ClusterApi } from "./cluster.ts";
export type { KvApi } from "./kv.ts";
export type { LeaseApi } from "./lease.ts";
export type { ElectionApi, LeaderKey, LeaderResponse } from "./election.ts";
export { WatchFeed } from "./concurrency.ts";
export type { LockApi } from "./lock.ts";
export type { Health, Maintenance } from "./maintenance.ts";
export type { V2Api, V2SelfFacts } from "./v2.ts";
export { isRequestError } from "./request_error.ts";
export { isCompatibleWithCluster, type Versions } from "./cluster_version.ts";
export { warnNoVersion } from "./version_monitor.ts";
export {
  EtcdDbError,
  hasChecksum,
  restoreEtcdSnapshot,
  type RestoreRequest,
  takeOverEtcdDataDir,
} from "./etcd_db/mod.ts";
