// The cluster version, decided as etcd 3.4 decides it: the leader asks every member's peer
// URL for /version and proposes the lowest server version among them (major.minor.0), or
// etcd's minimum cluster version 3.0.0 while some member cannot tell, raising it later but
// never lowering it. A member joins only a cluster whose version it can run, and stops rather
// than apply a cluster version above its own (etcd's downgrade check).
import { ETCD_VERSION } from "../config/mod.ts";

/** What a member's GET /version answers (etcd's version.Versions). */
export interface Versions {
  etcdserver: string;
  etcdcluster: string;
}

/** etcd's MinClusterVersion. */
export const MIN_CLUSTER_VERSION = "3.0.0";

/** What /version's etcdcluster says before the leader decided. */
export const NOT_DECIDED = "not_decided";

type SemVer = [major: number, minor: number, patch: number];

/** A semantic version's numbers; undefined for anything else (go-semver would refuse it). */
export function parseSemVer(v: string): SemVer | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compare(a: SemVer, b: SemVer): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

const majorMinor = (v: SemVer): SemVer => [v[0], v[1], 0];
const text = (v: SemVer) => v.join(".");

/** etcd's version.Cluster: "3.4" of "3.4.0". */
export const shortVersion = (version: string) => version.split(".").slice(0, 2).join(".");

/**
 * etcd's decideClusterVersion: the lowest server version of all members as major.minor.0, or
 * undefined when some member's version is unknown or unreadable. `warn` hears of members
 * running a version above this one.
 */
export function decideClusterVersion(
  versions: Map<string, Versions | undefined>,
  warn: (memberId: string, version: string) => void = () => {},
): string | undefined {
  const local = parseSemVer(ETCD_VERSION)!;
  let lowest: SemVer | undefined;
  for (const [id, v] of versions) {
    const server = v && parseSemVer(v.etcdserver);
    if (!server) return undefined;
    if (compare(local, server) < 0) warn(id, v!.etcdserver);
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
 * member's major.minor, and none outside it.
 */
export function isCompatibleWithCluster(
  versions: Map<string, Versions | undefined>,
  localId: string,
): boolean {
  const min = parseSemVer(MIN_CLUSTER_VERSION)!;
  const max = majorMinor(parseSemVer(ETCD_VERSION)!);
  let ok = false;
  for (const [id, v] of versions) {
    if (id === localId || !v) continue;
    const cluster = parseSemVer(v.etcdcluster);
    if (!cluster) continue;
    if (compare(cluster, min) < 0 || compare(max, cluster) < 0) return false;
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
