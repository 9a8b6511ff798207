// The cluster version, decided as etcd 3.4 decides it: the leader asks every member's peer
// URL for /version and proposes the lowest server version among them (major.minor.0), or
// etcd's minimum cluster version 3.0.0 while some member cannot tell, raising it later but
// never lowering it. A member joins only a cluster whose version it can run, and stops rather
// than apply a cluster version above its own (etcd's downgrade check).
import {
  compareSemVer as compare,
  ETCD_VERSION,
  majorMinor,
  MIN_CLUSTER_VERSION,
  parseSemVer,
  type SemVer,
  semVerError,
} from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";

/** What a member's GET /version answers (etcd's version.Versions). */
export interface Versions {
  etcdserver: string;
  etcdcluster: string;
}

/** What /version's etcdcluster says before the leader decided. */
export const NOT_DECIDED = "not_decided";

const text = (v: SemVer) => v.join(".");

/** etcd's version.Cluster: "3.4" of "3.4.0". */
export const shortVersion = (version: string) => version.split(".").slice(0, 2).join(".");

/**
 * etcd's decideClusterVersion: the lowest server version of all members as major.minor.0, or
 * undefined when some member's version is unknown or unreadable; warns of members running a
 * version above this one.
 */
export function decideClusterVersion(
  versions: Map<string, Versions | undefined>,
  log?: Logger,
): string | undefined {
  const local = parseSemVer(ETCD_VERSION)!;
  let lowest: SemVer | undefined;
  for (const [id, v] of versions) {
    if (!v) return undefined;
    const server = parseSemVer(v.etcdserver);
    if (!server) {
      log?.error({
        pkg: "etcdserver",
        text: `cannot understand the version of member ${id} (${semVerError(v.etcdserver)})`,
        msg: "failed to parse server version of remote member",
        fields: { "remote-member-id": id, "remote-member-version": v.etcdserver },
        zapLevel: "warn",
      });
      return undefined;
    }
    if (compare(local, server) < 0) {
      log?.warn({
        pkg: "etcdserver",
        text: `the local etcd version ${ETCD_VERSION} is not up-to-date; member ${id} has ` +
          `a higher version ${v.etcdserver}`,
        msg: "leader found higher-versioned member",
        fields: {
          "local-member-version": ETCD_VERSION,
          "remote-member-id": id,
          "remote-member-version": v.etcdserver,
        },
      });
    }
    if (!lowest || compare(server, lowest) < 0) lowest = server;
  }
  return lowest && text(majorMinor(lowest));
}

/**
 * What the leader proposes given the current cluster version ("" before one was set) and the
 * decided one: etcd's monitorVersions. Undefined when nothing changes.
 */
export function nextClusterVersion(
  current: string,
  decided: string | undefined,
): string | undefined {
  if (current === "") return decided ?? MIN_CLUSTER_VERSION;
  const now = parseSemVer(current);
  const next = decided && parseSemVer(decided);
  return now && next && compare(now, next) < 0 ? decided : undefined;
}

/**
 * etcd's isCompatibleWithCluster: whether this member can run in a cluster whose other
 * members report `versions`: some member's cluster version must lie between 3.0.0 and this
 * member's major.minor, and none outside it (another member may be down as this one joins).
 */
export function isCompatibleWithCluster(
  versions: Map<string, Versions | undefined>,
  localId: string,
  log?: Logger,
): boolean {
  const min = parseSemVer(MIN_CLUSTER_VERSION)!;
  const max = majorMinor(parseSemVer(ETCD_VERSION)!);
  let ok = false;
  for (const [id, v] of versions) {
    if (id === localId || !v) continue;
    const cluster = parseSemVer(v.etcdcluster);
    if (!cluster) {
      log?.error({
        pkg: "etcdserver",
        text: `cannot understand the cluster version of member ${id} (${
          semVerError(v.etcdcluster)
        })`,
        msg: "failed to parse cluster version of remote member",
        fields: { "remote-member-id": id, "remote-member-cluster-version": v.etcdcluster },
        zapLevel: "warn",
      });
      continue;
    }
    const refusal = compare(cluster, min) < 0
      ? { text: `lower than the minimal cluster version(${MIN_CLUSTER_VERSION})`, msg: "too low" }
      : compare(max, cluster) < 0
      ? { text: `higher than the maximum cluster version(${text(max)})`, msg: "too high" }
      : undefined;
    if (refusal) {
      log?.warn({
        pkg: "etcdserver",
        text: `the running cluster version(${text(cluster)}) is ${refusal.text} supported`,
        msg: `cluster version of remote member is not compatible; ${refusal.msg}`,
        fields: {
          "remote-member-id": id,
          "remote-member-cluster-version": text(cluster),
          "minimum-cluster-version-supported": MIN_CLUSTER_VERSION,
        },
      });
      return false;
    }
    ok = true;
  }
  return ok;
}

/**
 * etcd's mustDetectDowngrade: the line a member stops with when the cluster version is above
 * its own major.minor; undefined when it may run.
 */
export function downgradeRefusal(clusterVersion: string): string | undefined {
  const cluster = parseSemVer(clusterVersion);
  const local = majorMinor(parseSemVer(ETCD_VERSION)!);
  if (!cluster || compare(local, cluster) >= 0) return undefined;
  return `cluster cannot be downgraded (current version: ${ETCD_VERSION} is lower than ` +
    `determined cluster version: ${shortVersion(clusterVersion)}).`;
}
