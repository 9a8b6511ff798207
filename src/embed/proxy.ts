// etcd's v2 proxy mode: a process that forwards v2 client requests to the cluster's members
// (--proxy on|readonly, or --discovery finding the cluster full with --discovery-fallback proxy).
import type { Config, TLSConfig } from "../config/mod.ts";
import { discoveryFailureLines } from "../discovery/mod.ts";
import type { Logger } from "../log/mod.ts";
import { peerURLsFromCluster, ProxyStartError, runV2Proxy } from "../proxy/mod.ts";
import { loadClientTLS, loadServerTLS } from "../tls/mod.ts";
import type { ClusterFullError } from "./initial_cluster.ts";
import { reraise, waitForSignal } from "./signals.ts";

/**
 * etcd's startProxy: requests go to the members' client URLs with the client TLS settings (the
 * peer ones when no client certificate is given), skipping verification with --auto-tls; the
 * member list comes from their peer URLs with the peer settings (--peer-auto-tls likewise).
 */
async function proxyTLS(config: Config) {
  const client = config.clientTLS;
  const peer = config.peerTLS;
  const https = config.listenClientUrls.some((u) => u.protocol === "https:");
  const noPair = (t: TLSConfig) => t.certFile === "" && t.keyFile === "";
  return {
    tls: https && client.certFile
      ? await loadServerTLS(client, { port: "client", cipherSuites: config.cipherSuites })
      : undefined,
    clientTLS: await upstreamTLS({ ...(noPair(client) ? peer : client), autoTLS: client.autoTLS }),
    peerTLS: await upstreamTLS(peer),
  };
}

/** Settings to dial https members with, when any are given (else the runtime's defaults). */
function upstreamTLS(t: TLSConfig) {
  return t.certFile || t.trustedCAFile || t.autoTLS ? loadClientTLS(t) : undefined;
}

/** Runs the v2 proxy until a signal stops it. */
export async function runProxy(config: Config, log: Logger, peerURLs?: string[]): Promise<number> {
  let proxy;
  try {
    proxy = await runV2Proxy({
      config,
      log,
      peerURLs,
      readonly: config.proxy === "readonly",
      ...await proxyTLS(config),
    });
  } catch (err) {
    if (!(err instanceof ProxyStartError) && !(err instanceof Error)) throw err;
    const text = (err as Error).message;
    return log.fatal({ pkg: "etcdmain", text, msg: "discovery failed", fields: { error: text } });
  }
  const signal = await waitForSignal(log);
  await proxy.close();
  return await reraise(signal);
}

/** Discovery found the cluster full: become a proxy to it, or exit, per --discovery-fallback. */
export async function discoveryFull(
  config: Config,
  log: Logger,
  err: ClusterFullError,
): Promise<number> {
  if (config.discoveryFallback !== "proxy") {
    // As any other discovery failure in etcd 3.4: the error, then how to recover, exit 1.
    const ctx = { url: config.discovery, name: config.name, dataDir: config.dataDir };
    for (const line of discoveryFailureLines(err, ctx)) {
      log.log(line.level, { pkg: "etcdmain", text: line.text });
    }
    return 1;
  }
  log.notice({
    pkg: "etcdmain",
    text: "discovery cluster full, falling back to proxy",
    msg: "discovery cluster is full, falling back to proxy",
    fields: { "fallback-proxy": "proxy", error: err.message },
  });
  return await runProxy(config, log, peerURLsFromCluster(err.cluster));
}
