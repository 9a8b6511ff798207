// etcd 3.4's v2 HTTP reverse proxy (`--proxy on|readonly`, discovery fallback `proxy`) and the
// data dir check that decides between restarting a member and restarting a proxy.
export { runV2Proxy, type V2Proxy, type V2ProxyOptions } from "./run.ts";
export {
  clusterFilePath,
  type DataDirKind,
  identifyDataDir,
  parseClusterFile,
  ProxyStartError,
} from "./datadir.ts";
export { type UpstreamTLS } from "./transport.ts";
export { parseMembers, type RemoteMember } from "./members.ts";
export { cleanPath } from "./handler.ts";
export { peerURLsFromCluster } from "./peers.ts";
