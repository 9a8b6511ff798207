// The gateway's URL paths (under /v3) and the gRPC methods they reach, as etcd 3.4 registers
// them (spec/api.md §2), including the older kv/lease/* spellings of the lease paths.

export interface GatewayRoute {
  service: string;
  method: string;
}

const route = (service: string, method: string): GatewayRoute => ({ service, method });
const kv = (method: string) => route("etcdserverpb.KV", method);
const lease = (method: string) => route("etcdserverpb.Lease", method);
const cluster = (method: string) => route("etcdserverpb.Cluster", method);
const maintenance = (method: string) => route("etcdserverpb.Maintenance", method);
const auth = (method: string) => route("etcdserverpb.Auth", method);
const lock = (method: string) => route("v3lockpb.Lock", method);
const election = (method: string) => route("v3electionpb.Election", method);

export const GATEWAY_PATHS: Record<string, GatewayRoute> = {
  "kv/range": kv("Range"),
  "kv/put": kv("Put"),
  "kv/deleterange": kv("DeleteRange"),
  "kv/txn": kv("Txn"),
  "kv/compaction": kv("Compact"),
  "watch": route("etcdserverpb.Watch", "Watch"),
  "lease/grant": lease("LeaseGrant"),
  "lease/revoke": lease("LeaseRevoke"),
  "kv/lease/revoke": lease("LeaseRevoke"),
  "lease/keepalive": lease("LeaseKeepAlive"),
  "lease/timetolive": lease("LeaseTimeToLive"),
  "kv/lease/timetolive": lease("LeaseTimeToLive"),
  "lease/leases": lease("LeaseLeases"),
  "kv/lease/leases": lease("LeaseLeases"),
  "cluster/member/add": cluster("MemberAdd"),
  "cluster/member/remove": cluster("MemberRemove"),
  "cluster/member/update": cluster("MemberUpdate"),
  "cluster/member/list": cluster("MemberList"),
  "cluster/member/promote": cluster("MemberPromote"),
  "maintenance/alarm": maintenance("Alarm"),
  "maintenance/status": maintenance("Status"),
  "maintenance/defragment": maintenance("Defragment"),
  "maintenance/hash": maintenance("Hash"),
  "maintenance/snapshot": maintenance("Snapshot"),
  "maintenance/transfer-leadership": maintenance("MoveLeader"),
  "auth/enable": auth("AuthEnable"),
  "auth/disable": auth("AuthDisable"),
  "auth/authenticate": auth("Authenticate"),
  "auth/user/add": auth("UserAdd"),
  "auth/user/get": auth("UserGet"),
  "auth/user/list": auth("UserList"),
  "auth/user/delete": auth("UserDelete"),
  "auth/user/changepw": auth("UserChangePassword"),
  "auth/user/grant": auth("UserGrantRole"),
  "auth/user/revoke": auth("UserRevokeRole"),
  "auth/role/add": auth("RoleAdd"),
  "auth/role/get": auth("RoleGet"),
  "auth/role/list": auth("RoleList"),
  "auth/role/delete": auth("RoleDelete"),
  "auth/role/grant": auth("RoleGrantPermission"),
  "auth/role/revoke": auth("RoleRevokePermission"),
  "lock/lock": lock("Lock"),
  "lock/unlock": lock("Unlock"),
  "election/campaign": election("Campaign"),
  "election/proclaim": election("Proclaim"),
  "election/leader": election("Leader"),
  "election/observe": election("Observe"),
  "election/resign": election("Resign"),
};
