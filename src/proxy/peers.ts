// Where a proxy first finds its cluster's peer URLs: the cluster file of an earlier run, else
// the given URLs (a discovery fallback passes those it read), else --discovery (read without
// registering), --discovery-srv (server records; the proxy need not be among them) or
// --initial-cluster.
import { type Config, type InitialClusterMember, parseInitialCluster } from "../config/mod.ts";
import { DiscoveryError, getCluster, logSrvWarning, srvServerCluster } from "../discovery/mod.ts";
import type { Logger } from "../log/mod.ts";
import { V2Error } from "../v2store/mod.ts";
import { clusterFilePath, ProxyStartError, readClusterFile } from "./datadir.ts";

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** All members' peer URLs, sorted (etcd's URLsMap.URLs). */
export function peerURLsOf(members: InitialClusterMember[]): string[] {
  return members.flatMap((m) => m.urls).sort(byString);
}

/** The sorted peer URLs of an initial-cluster string (a discovery fallback's full cluster). */
export function peerURLsFromCluster(s: string): string[] {
  const parsed = parseInitialCluster(s);
  if ("error" in parsed) throw new ProxyStartError(parsed.error);
  return peerURLsOf(parsed);
}

export async function initialPeerURLs(
  config: Config,
  log: Logger,
  given: string[] | undefined,
): Promise<string[]> {
  const file = clusterFilePath(config.dataDir);
  const fromFile = readClusterFile(file);
  if (fromFile !== undefined) {
    const warn = (what: string, msg: string) =>
      log.warn({
        pkg: "etcdmain",
        text: `${what} ignored since the proxy has already been initialized. ` +
          `Valid cluster file found at ${JSON.stringify(file)}`,
        msg:
          `${msg} ignored since the proxy has already been initialized; valid cluster file found`,
        fields: { "cluster-file": file },
      });
    if (config.discovery) warn("discovery token", "discovery token");
    if (config.discoverySrv) warn("DNS SRV discovery", "DNS SRV discovery");
    log.info({
      pkg: "etcdmain",
      text: `proxy: using peer urls [${fromFile.join(" ")}] from cluster file ${
        JSON.stringify(file)
      }`,
      msg: "proxy using peer URLS from cluster file",
      fields: { "peer-urls": fromFile, "cluster-file": file },
    });
    return fromFile;
  }
  const urls = given ? [...given].sort(byString) : await resolvePeerURLs(config, log);
  log.info({
    pkg: "etcdmain",
    text: `proxy: using peer urls [${urls.join(" ")}] `,
    msg: "proxy using peer URLS",
    fields: { "peer-urls": urls },
  });
  return urls;
}

async function resolvePeerURLs(config: Config, log: Logger): Promise<string[]> {
  if (config.discovery) {
    let cluster: string;
    try {
      cluster = await getCluster({
        url: config.discovery,
        memberId: 0n,
        proxy: config.discoveryProxy || undefined,
        logger: log,
      });
    } catch (err) {
      throw new ProxyStartError(discoveryErrorText(err));
    }
    return peerURLsFromCluster(cluster);
  }
  if (config.discoverySrv) {
    try {
      const srv = await srvServerCluster(config.discoverySrv, config.discoverySrvName, {
        name: config.name,
        advertisePeerUrls: config.initialAdvertisePeerUrls.map(String),
        requireLocalMember: false,
      });
      logSrvWarning(log, srv);
      return peerURLsFromCluster(srv.initialCluster);
    } catch (err) {
      if (err instanceof ProxyStartError) throw err;
      throw new ProxyStartError(`error setting up initial cluster: ${(err as Error).message}`);
    }
  }
  if (config.initialClusterError) throw new ProxyStartError(config.initialClusterError);
  return peerURLsOf(config.initialCluster);
}

/** etcd prints discovery's error as is; a v2 error in the v2 client's words. */
function discoveryErrorText(err: unknown): string {
  if (err instanceof DiscoveryError && err.v2Error) return err.v2Error.toString();
  if (err instanceof V2Error) return err.toString();
  return (err as Error)?.message ?? String(err);
}
