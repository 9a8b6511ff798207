// One member: Raft driven to disk and to peers, the apply path, and the operations the client
// API offers on top of them.
export { EtcdServer, type ResponseHeader, type ServerOptions } from "./server.ts";
export { Errors, EtcdError, GrpcCode } from "../errors/mod.ts";
export type { LeaderClient } from "./forward.ts";
export { computeClusterId, computeMemberId, formatId, parseId } from "./ids.ts";
export { type Member, Membership } from "./membership.ts";
export { AlarmAction, type AlarmMember, AlarmType } from "./alarms.ts";
export { announceCapabilities } from "./apply.ts";
export { BootstrapError, checkInitialCluster, formatInitialCluster } from "./bootstrap_check.ts";
export {
  bootstrapMember,
  isInitialized,
  joinMember,
  memberPaths,
  type MemberState,
  restartMember,
} from "./member_state.ts";
export { applyV2, V2Api } from "./v2.ts";
export { observeMember } from "./metrics.ts";
export { mergedSnapshot } from "./snapshotting.ts";
