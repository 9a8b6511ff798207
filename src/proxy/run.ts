// etcd 3.4's v2 proxy (`--proxy on|readonly`, or a discovery that found the cluster full): a
// stateless HTTP reverse proxy in front of the cluster's client URLs, learned from the members
// themselves and remembered in `<data-dir>/proxy/cluster`.
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import type tls from "node:tls";
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { clusterFilePath, proxyDir, ProxyStartError, writeClusterFile } from "./datadir.ts";
import { Director } from "./director.ts";
import { proxyHandler } from "./handler.ts";
import { clusterFromRemotePeers, ClusterLookupError } from "./members.ts";
import { initialPeerURLs } from "./peers.ts";
import { Transport, type UpstreamTLS } from "./transport.ts";

export interface V2ProxyOptions {
  config: Config;
  log: Logger;
  /**
   * Peer URLs to start from when the data dir has no cluster file yet (a discovery fallback
   * passes the members it read); otherwise --discovery, --discovery-srv or --initial-cluster.
   */
  peerURLs?: string[];
  readonly: boolean;
  /** Server certificates for https:// listen URLs (loaded by the caller). */
  tls?: tls.TlsOptions;
  /** Client TLS towards the members' https client URLs, where requests are forwarded. */
  clientTLS?: UpstreamTLS;
  /** Client TLS towards the members' https peer URLs, where the member list is read. */
  peerTLS?: UpstreamTLS;
  /** Shuffle source; tests inject one. */
  random?: () => number;
}

export interface V2Proxy {
  /** The bound address of each listen URL, in order (port 0 gets a real port). */
  addresses: net.AddressInfo[];
  close(): Promise<void>;
}

/** Starts the proxy; rejects with ProxyStartError (etcd's fatal text) when it cannot. */
export async function runV2Proxy(opts: V2ProxyOptions): Promise<V2Proxy> {
  const { config, log } = opts;
  prepareProxyDir(config, log);
  const peerURLs = await initialPeerURLs(config, log, opts.peerURLs);
  // etcd's two timeout transports: one to forward requests, one to ask peers for the members.
  const timeouts = {
    dialTimeoutMs: config.proxyDialTimeout,
    readTimeoutMs: config.proxyReadTimeout,
    writeTimeoutMs: config.proxyWriteTimeout,
  };
  const transport = new Transport({ ...timeouts, tls: opts.clientTLS });
  const peerTransport = new Transport({ ...timeouts, tls: opts.peerTLS });
  const director = new Director({
    urls: memberRefresh(peerURLs, peerTransport, clusterFilePath(config.dataDir), log),
    failureWaitMs: config.proxyFailureWait,
    refreshIntervalMs: config.proxyRefreshInterval,
    log,
    random: opts.random,
  });
  await director.start();

  const handler = proxyHandler({
    director,
    transport,
    log,
    readonly: opts.readonly,
    cors: config.cors,
  });
  const listeners: Listening[] = [];
  const close = async () => {
    director.stop();
    await Promise.all(listeners.map(({ server, sockets }) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      })
    ));
    transport.close();
    peerTransport.close();
  };
  try {
    for (const url of config.listenClientUrls) {
      listeners.push(await listen(url, handler, opts.tls));
      log.info({
        pkg: "etcdmain",
        text: `v2 proxy started listening on client requests on ${JSON.stringify(String(url))}`,
        msg: "v2 proxy started listening on client requests",
        fields: { host: String(url) },
      });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { addresses: listeners.map((l) => l.address), close };
}

/** `<data-dir>/proxy`, whose presence marks the data dir as a proxy's (etcd's start-up lines). */
function prepareProxyDir(config: Config, log: Logger): void {
  const dir = proxyDir(config.dataDir);
  if (existsDir(dir)) {
    log.notice({
      pkg: "etcdmain",
      text: "the server is already initialized as proxy before, starting as etcd proxy...",
      msg: "server has been already initialized",
      fields: { "data-dir": config.dataDir, "dir-type": "proxy" },
    });
  }
  log.notice({
    pkg: "etcdmain",
    text: "proxy: this proxy supports v2 API only!",
    msg: "v2 API proxy starting",
  });
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new ProxyStartError(`mkdir ${dir}: ${(err as Error).message}`);
  }
}

/**
 * The director's refresh: the members' client URLs, asked from the peer URLs known so far. The
 * cluster file follows the members' peer URLs, so a restarted proxy finds the cluster as it is.
 */
function memberRefresh(
  peerURLs: string[],
  transport: Transport,
  clusterFile: string,
  log: Logger,
): () => Promise<string[]> {
  return async () => {
    let cluster;
    try {
      cluster = await clusterFromRemotePeers(peerURLs, transport, log);
    } catch (err) {
      if (!(err instanceof ClusterLookupError)) throw err;
      log.warn({
        pkg: "etcdmain",
        text: `proxy: ${err.message}`,
        msg: "failed to get cluster from remote peers",
        fields: { "peer-urls": peerURLs, error: err.message },
      });
      return [];
    }
    try {
      await writeClusterFile(clusterFile, cluster.peerURLs);
    } catch (err) {
      log.warn({
        pkg: "etcdmain",
        text: `proxy: error on writing urls ${(err as Error).message}`,
        msg: "proxy failed to write cluster file",
        fields: { error: (err as Error).message },
      });
      return cluster.clientURLs;
    }
    if (cluster.peerURLs.join("\n") !== peerURLs.join("\n")) {
      log.notice({
        pkg: "etcdmain",
        text: `proxy: updated peer urls in cluster file from [${peerURLs.join(" ")}] to [${
          cluster.peerURLs.join(" ")
        }]`,
        msg: "proxy updated peer URLs",
        fields: { from: peerURLs, to: cluster.peerURLs },
      });
    }
    peerURLs = cluster.peerURLs;
    return cluster.clientURLs;
  };
}

function existsDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** One client URL's server, with its open connections (closing the proxy drops them). */
interface Listening {
  server: http.Server;
  sockets: Set<net.Socket>;
  address: net.AddressInfo;
}

async function listen(
  url: URL,
  handler: http.RequestListener,
  tlsOptions: tls.TlsOptions | undefined,
): Promise<Listening> {
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") {
    throw new ProxyStartError(`unsupported client URL scheme ${url.protocol} (${url})`);
  }
  if (secure && !tlsOptions) throw new ProxyStartError(`TLS certificates are required for ${url}`);
  const server = secure ? https.createServer(tlsOptions!, handler) : http.createServer(handler);
  // Go's server keeps idle connections without a deadline and announces no Keep-Alive header.
  server.keepAliveTimeout = 0;
  server.on("clientError", (_err, socket) => socket.destroy());
  const sockets = new Set<net.Socket>();
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port || (secure ? 443 : 80));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: Error & { code?: string }) => {
      reject(new ProxyStartError(`listen tcp ${url.host}: bind: ${bindErrorText(err)}`));
    });
    server.listen(port, host === "localhost" ? "127.0.0.1" : host, () => resolve());
  });
  return { server, sockets, address: server.address() as net.AddressInfo };
}

function bindErrorText(err: Error & { code?: string }): string {
  switch (err.code) {
    case "EADDRINUSE":
      return "address already in use";
    case "EADDRNOTAVAIL":
      return "cannot assign requested address";
    case "EACCES":
      return "permission denied";
    default:
      return err.message;
  }
}
