// Where a new member's initial cluster comes from: --initial-cluster, the discovery protocol
// (--discovery) or DNS SRV records (--discovery-srv). The cluster token that salts member IDs
// is --initial-cluster-token, except with discovery, where it is the discovery URL itself.
import { type Config, type InitialClusterMember, parseInitialCluster } from "../config/mod.ts";
import {
  DiscoveryError,
  discoveryFailureLines,
  discoveryMemberId,
  joinCluster,
  logSrvWarning,
  srvServerCluster,
} from "../discovery/mod.ts";
import type { Logger } from "../log/mod.ts";
import { BootstrapError } from "../server/mod.ts";

export interface InitialCluster {
  members: InitialClusterMember[];
  token: string;
}

/** A failure already explained in the log: the member exits 1 without another line. */
export class ReportedFailure extends Error {}

/** Raised when discovery found the cluster full: the caller falls back to a proxy or exits. */
export class ClusterFullError extends Error {
  constructor(readonly cluster: string) {
    super("discovery: cluster is full");
  }
}

function parse(s: string): InitialClusterMember[] {
  const parsed = parseInitialCluster(s);
  if ("error" in parsed) throw new BootstrapError(parsed.error);
  return parsed;
}

export async function resolveInitialCluster(
  config: Config,
  log: Logger,
): Promise<InitialCluster> {
  const peerURLs = config.initialAdvertisePeerUrls.map(String);
  if (config.discovery) {
    const url = config.discovery;
    try {
      const cluster = await joinCluster({
        url,
        memberId: discoveryMemberId(peerURLs, url),
        name: config.name,
        peerURLs,
        proxy: config.discoveryProxy || undefined,
        logger: log,
      });
      return { members: parse(cluster), token: url };
    } catch (err) {
      if (err instanceof DiscoveryError && err.kind === "fullCluster") {
        throw new ClusterFullError(err.cluster);
      }
      for (
        const line of discoveryFailureLines(err, {
          url,
          name: config.name,
          dataDir: config.dataDir,
        })
      ) {
        log.log(line.level, { pkg: "etcdmain", text: line.text });
      }
      throw new ReportedFailure("discovery failed");
    }
  }
  if (config.discoverySrv) {
    try {
      const srv = await srvServerCluster(config.discoverySrv, config.discoverySrvName, {
        name: config.name,
        advertisePeerUrls: peerURLs,
      });
      for (const e of srv.entries) {
        // etcd names the server service here whichever record set the entry came from.
        log.notice({
          pkg: "embed",
          text: `got bootstrap from DNS for etcd-server at ${e.name}=${e.url}`,
          msg: "got bootstrap from DNS for etcd-server",
          fields: { node: `${e.name}=${e.url}` },
        });
      }
      logSrvWarning(log, srv);
      return { members: parse(srv.initialCluster), token: config.initialClusterToken };
    } catch (err) {
      if (err instanceof BootstrapError) throw err;
      throw new BootstrapError(`error setting up initial cluster: ${(err as Error).message}`);
    }
  }
  if (config.initialClusterError) throw new BootstrapError(config.initialClusterError);
  return { members: config.initialCluster, token: config.initialClusterToken };
}
