// The headers every request between members carries (etcd's rafthttp), and member IDs as they
// appear in them and in paths.
import { ETCD_VERSION, MIN_CLUSTER_VERSION } from "../config/mod.ts";

export const SERVER_VERSION = ETCD_VERSION;

/** Header names as etcd writes them (node:http lowercases them on the receiving side). */
export const H = {
  clusterId: "X-Etcd-Cluster-ID",
  from: "X-Server-From",
  serverVersion: "X-Server-Version",
  minClusterVersion: "X-Min-Cluster-Version",
  peerURLs: "X-PeerURLs",
  raftTo: "X-Raft-To",
} as const;

/** IDs on the wire are lowercase hex without leading zeros, as etcd's types.ID prints them. */
export function hexId(id: bigint): string {
  return id.toString(16);
}

/** etcd's types.IDFromString: up to 16 hex digits. */
export function parseHexId(s: string | undefined): bigint | undefined {
  if (s === undefined || !/^[0-9a-fA-F]{1,16}$/.test(s)) return undefined;
  return BigInt("0x" + s);
}

/** The headers every request to a peer carries (etcd's createPostRequest and stream dial). */
export function peerHeaders(
  localId: bigint,
  clusterId: bigint,
  localPeerURLs: string[],
): Record<string, string> {
  return {
    [H.from]: hexId(localId),
    [H.serverVersion]: SERVER_VERSION,
    [H.minClusterVersion]: MIN_CLUSTER_VERSION,
    [H.clusterId]: hexId(clusterId),
    [H.peerURLs]: localPeerURLs.join(","),
  };
}
