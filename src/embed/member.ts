// Opens a member's state the way etcd decides it: restart from an initialized data dir, join a
// running cluster (--initial-cluster-state existing), or bootstrap a new one from the static,
// discovery or DNS SRV initial cluster. Every check runs before any listener opens.
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  BootstrapError,
  bootstrapMember,
  checkInitialCluster,
  formatId,
  isInitialized,
  joinMember,
  memberPaths,
  type MemberState,
  restartMember,
  takeOverEtcdDataDir,
} from "../server/mod.ts";
import { fetchClusterFromPeers, type PeerClientTLS, type RemoteCluster } from "../peer/mod.ts";
import { advertisedAsListed } from "./advertised_urls.ts";
import { resolveInitialCluster } from "./initial_cluster.ts";

/** etcd waits this long for each peer when joining a running cluster. */
const JOIN_PEER_TIMEOUT_MS = 10_000;
/** ... and this long when a new member checks whether it was bootstrapped before. */
const BOOTSTRAPPED_CHECK_TIMEOUT_MS = 1_000;

export function timingOf(config: Config) {
  return {
    heartbeatMs: config.heartbeatInterval,
    electionMs: config.electionTimeout,
    preVote: config.preVote,
  };
}

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join(",") === [...b].sort().join(",");

/** The guide's message for a newcomer whose peers belong to another cluster. */
export function conflictMessage(local: bigint, remote: bigint): string {
  return `conflicting cluster ID to the target cluster (${formatId(local)} != ${
    formatId(remote)
  }). Exiting.`;
}

/**
 * Asks the other initial members (silently, briefly) who they are: peers of another cluster
 * mean a misconfigured newcomer (the guide's error case); a cluster that already knows our ID
 * with client URLs means this data dir was wiped after a successful bootstrap.
 */
async function checkPeersBeforeBootstrap(
  cluster: { members: { id: bigint; peerURLs: string[] }[]; localId: bigint; clusterId: bigint },
  peerTLS?: PeerClientTLS,
): Promise<void> {
  const others = cluster.members.filter((m) => m.id !== cluster.localId).flatMap((m) => m.peerURLs);
  if (others.length === 0) return;
  let remote;
  try {
    remote = await fetchClusterFromPeers(others, BOOTSTRAPPED_CHECK_TIMEOUT_MS, { tls: peerTLS });
  } catch {
    return; // nobody answers yet: the peers are starting too
  }
  if (remote.clusterId !== cluster.clusterId) {
    throw new BootstrapError(conflictMessage(cluster.clusterId, remote.clusterId));
  }
  const self = remote.members.find((m) => m.id === cluster.localId);
  if (self && self.clientURLs.length > 0) {
    throw new BootstrapError(`member ${formatId(cluster.localId)} has already been bootstrapped`);
  }
}

type Paths = ReturnType<typeof memberPaths>;

/** The member's state, opened the way its data dir and flags say (etcd's NewServer cases). */
export async function openMember(
  config: Config,
  log: Logger,
  peerTLS?: PeerClientTLS,
): Promise<MemberState> {
  const paths = memberPaths(config.dataDir, config.walDir);
  await takeOverEtcdDataDir(paths, log); // a data dir etcd 3.4 wrote becomes ours first
  if (isInitialized(paths)) return await restart(config, log, paths);
  if (config.initialClusterState === "existing") {
    return await joinExistingCluster(config, log, paths, peerTLS);
  }
  return await bootstrapNewCluster(config, log, paths, peerTLS);
}

/** An initialized data dir: its WAL and snapshot decide; the bootstrap flags are ignored. */
async function restart(config: Config, log: Logger, paths: Paths): Promise<MemberState> {
  if (config.discovery) {
    log.warn({
      // etcd 3.4 logs this from etcdserver; the path unquoted, as the guide shows it.
      pkg: "etcdserver",
      text: `discovery token ignored since a cluster has already been initialized. ` +
        `Valid log found at ${paths.walDir}`,
      msg: "discovery token is ignored since cluster already initialized; valid logs are found",
      fields: { "wal-dir": paths.walDir },
    });
  }
  return await restartMember(paths, timingOf(config), log, config.forceNewCluster);
}

/** --initial-cluster-state existing: the running cluster's members decide our IDs. */
async function joinExistingCluster(
  config: Config,
  log: Logger,
  paths: Paths,
  peerTLS?: PeerClientTLS,
): Promise<MemberState> {
  if (config.discovery) {
    throw new BootstrapError(
      "discovery URL should not be set when joining existing initial cluster",
    );
  }
  if (config.initialClusterError) throw new BootstrapError(config.initialClusterError);
  const peerURLs = config.initialAdvertisePeerUrls.map(String);
  const local = checkInitialCluster(
    "etcd-ts",
    config.name,
    peerURLs,
    config.initialCluster,
    config.initialClusterToken,
  );
  const others = local.members.filter((m) => m.id !== local.localId).flatMap((m) => m.peerURLs);
  let remote;
  try {
    remote = await fetchClusterFromPeers(others, JOIN_PEER_TIMEOUT_MS, {
      tls: peerTLS,
      logger: log,
    });
  } catch (err) {
    throw new BootstrapError(
      `cannot fetch cluster info from peer urls: ${(err as Error).message}`,
    );
  }
  const selfId = validateClusterAndAssignIDs(local, remote, peerURLs);
  return await joinMember(paths, timingOf(config), log, selfId, remote.clusterId);
}

/**
 * etcd's ValidateClusterAndAssignIDs: the running cluster must have exactly the members of our
 * --initial-cluster (matched by peer URLs); ours is the one with our advertised URLs.
 */
function validateClusterAndAssignIDs(
  local: { members: { peerURLs: string[] }[] },
  remote: RemoteCluster,
  peerURLs: string[],
): bigint {
  if (remote.members.length !== local.members.length) {
    throw new BootstrapError(
      `error validating peerURLs ${formatId(remote.clusterId)}: member count is unequal`,
    );
  }
  for (const rm of remote.members) {
    if (!local.members.some((lm) => sameSet(lm.peerURLs, rm.peerURLs))) {
      throw new BootstrapError(
        `error validating peerURLs ${formatId(remote.clusterId)}: PeerURLs: no match found for ` +
          `existing member (${formatId(rm.id)}, ${rm.peerURLs.join(",")})`,
      );
    }
  }
  return remote.members.find((rm) => sameSet(rm.peerURLs, peerURLs))!.id;
}

/** A new cluster, from the static, discovery or DNS SRV initial cluster. */
async function bootstrapNewCluster(
  config: Config,
  log: Logger,
  paths: Paths,
  peerTLS?: PeerClientTLS,
): Promise<MemberState> {
  const peerURLs = config.initialAdvertisePeerUrls.map(String);
  const initial = await resolveInitialCluster(config, log);
  // etcd 3.1+: members found through _etcd-server-ssl records without a peer CA verify each
  // other's certificates against the SRV domain (spec/dns-srv.md, step 5). The transport dials
  // with this same object.
  const https = initial.members.some((m) => m.urls.some((u) => u.startsWith("https:")));
  if (peerTLS && config.discoverySrv !== "" && config.peerTLS.trustedCAFile === "" && https) {
    peerTLS.servername = config.discoverySrv;
  }
  const cluster = checkInitialCluster(
    "etcd-ts",
    config.name,
    await advertisedAsListed(config.name, peerURLs, initial.members),
    initial.members,
    initial.token,
  );
  await checkPeersBeforeBootstrap(cluster, peerTLS);
  return await bootstrapMember(
    paths,
    timingOf(config),
    log,
    cluster.members,
    cluster.localId,
    cluster.clusterId,
  );
}
