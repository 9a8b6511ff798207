// `etcd-ts grpc-proxy start`: etcd's start-up order and log lines (etcdmain/grpc_proxy.go) —
// the port's TLS (files or auto-TLS), the listener, the client of the cluster, the services, the
// resolver registration, the optional metrics listener — then serving until told to stop.
import type tls from "node:tls";
import { GrpcServer, instrumentGrpcServer, serveClient } from "../api/mod.ts";
import type { GrpcProxyConfig, TLSConfig } from "../config/mod.ts";
import { type DnsResolver, systemResolver } from "../discovery/mod.ts";
import { discoverEndpoints } from "../gateway/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  type ClientTLS,
  loadClientTLSSync,
  loadServerTLSSync,
  selfCert,
  type ServerTLS,
  tlsInfoString,
} from "../tls/mod.ts";
import { RangeCache } from "./cache.ts";
import { ClusterProxy } from "./cluster.ts";
import { proxyHttp } from "./http.ts";
import { kvService } from "./kv.ts";
import { LeaseProxy } from "./lease.ts";
import { proxyMetrics } from "./metrics.ts";
import { Namespace } from "./namespace.ts";
import { passThrough } from "./passthrough.ts";
import { Registration } from "./register.ts";
import { type Endpoint, parseEndpoint, Upstream } from "./upstream.ts";
import { watchService } from "./watch.ts";
import { WatchHub } from "./watch_hub.ts";

export interface GrpcProxyIO {
  /** zap, as etcdmain logs. */
  log: Logger;
  /** capnslog, as etcd's grpcproxy package logs. */
  plog: Logger;
  stderr(text: string): void;
  hostname?: string;
  resolver?: DnsResolver;
}

export interface GrpcProxy {
  /** Where it serves, "ip:port". */
  address: string;
  close(): Promise<void>;
}

/** A start-up failure: etcd prints it on stderr and exits 1. */
class StartError extends Error {}

const tlsConfig = (certFile: string, keyFile: string, trustedCAFile: string): TLSConfig => ({
  certFile,
  keyFile,
  clientCertFile: "",
  clientKeyFile: "",
  clientCertAuth: false,
  trustedCAFile,
  autoTLS: false,
  crlFile: "",
  allowedCN: "",
  allowedHostname: "",
});

/** The proxy port's TLS: etcd's newTLS (any of the three files), else auto-TLS, else none. */
async function listenTLS(cfg: GrpcProxyConfig, io: GrpcProxyIO): Promise<ServerTLS | undefined> {
  const l = cfg.listen;
  let info: TLSConfig | undefined;
  if (l.trustedCaFile !== "" || l.certFile !== "" || l.keyFile !== "") {
    info = tlsConfig(l.certFile, l.keyFile, l.trustedCaFile);
  } else if (l.autoTls) {
    const dir = `${cfg.dataDir}/fixtures/proxy`;
    const pair = await selfCert(dir, [cfg.listenAddr], 1, io.log);
    info = tlsConfig(pair.certFile, pair.keyFile, "");
  }
  if (!info) return undefined;
  info.crlFile = l.clientCrlFile;
  io.log.info({
    pkg: "etcdmain",
    msg: "gRPC proxy server TLS",
    text: `gRPC proxy server TLS: ${tlsInfoString(info)}`,
    fields: { "tls-info": tlsInfoString(info) },
  });
  try {
    return loadServerTLSSync(info, { port: "client", cipherSuites: l.cipherSuites, log: io.log });
  } catch (err) {
    throw new StartError((err as Error).message);
  }
}

/** The cluster's TLS (etcd's newClientCfg): with --cacert/--cert/--key, or skip-verify alone. */
function upstreamTLS(cfg: GrpcProxyConfig, io: GrpcProxyIO): ClientTLS | undefined {
  const u = cfg.upstream;
  const given = u.cacert !== "" || u.cert !== "" || u.key !== "";
  if (!given && !u.insecureSkipTlsVerify) return undefined;
  let out: ClientTLS;
  try {
    out = loadClientTLSSync(tlsConfig(u.cert, u.key, u.cacert));
  } catch (err) {
    throw new StartError((err as Error).message);
  }
  if (u.insecureSkipTlsVerify) {
    out.rejectUnauthorized = false;
    io.log.warn({
      pkg: "etcdmain",
      text: "--insecure-skip-tls-verify was given, this grpc proxy process skips authentication " +
        "of etcd server TLS certificates. This option should be enabled only for testing purposes.",
    });
  }
  if (given) {
    const info = tlsInfoString(tlsConfig(u.cert, u.key, u.cacert));
    io.log.info({ pkg: "etcdmain", text: "gRPC proxy client TLS", fields: { "tls-info": info } });
  }
  return out;
}

/** Go's net.Listen errors for a host:port that cannot be bound. */
function listenError(addr: string, err: unknown): string {
  const code = (err as { code?: string }).code;
  const why: Record<string, string> = {
    EADDRINUSE: "bind: address already in use",
    EADDRNOTAVAIL: "bind: cannot assign requested address",
    EACCES: "bind: permission denied",
  };
  return `listen tcp ${addr}: ${why[code ?? ""] ?? (err as Error).message}`;
}

function listenURL(addr: string, secure: boolean): URL {
  const m = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(addr);
  if (!m) {
    const why = addr.includes(":") ? "too many colons in address" : "missing port in address";
    throw new StartError(`listen tcp: address ${addr}: ${why}`);
  }
  return new URL(`${secure ? "https" : "http"}://${m[1] === "" ? "0.0.0.0" : m[1]}:${m[2]}`);
}

interface Parts {
  up: Upstream;
  grpc: GrpcServer;
  closers: (() => void)[];
  registration?: Registration;
}

/** The services of etcd's newGRPCProxyServer, over one client of the cluster. */
function buildServices(cfg: GrpcProxyConfig, up: Upstream, io: GrpcProxyIO): Parts {
  const metrics = proxyMetrics();
  const ns = cfg.namespace === ""
    ? undefined
    : new Namespace(new TextEncoder().encode(cfg.namespace));
  const hub = new WatchHub(up, metrics, io.log);
  const hostname = io.hostname ?? Deno.hostname();
  const cluster = new ClusterProxy({
    up,
    hub,
    ns,
    advertiseClientUrl: cfg.advertiseClientUrl,
    resolverPrefix: cfg.resolverPrefix,
    hostname,
    log: io.plog,
  });
  const lease = new LeaseProxy(up, ns);
  const grpc = new GrpcServer();
  instrumentGrpcServer(grpc);
  const cache = new RangeCache();
  grpc.addService("etcdserverpb.KV", kvService(up, ns, cache, metrics, cfg.serializableOrdering));
  grpc.addService("etcdserverpb.Watch", watchService(up, hub, ns));
  grpc.addService("etcdserverpb.Cluster", cluster.service());
  grpc.addService("etcdserverpb.Lease", lease.service());
  grpc.addService("etcdserverpb.Maintenance", passThrough(up, "etcdserverpb.Maintenance"));
  grpc.addService("etcdserverpb.Auth", passThrough(up, "etcdserverpb.Auth"));
  grpc.addService("v3electionpb.Election", passThrough(up, "v3electionpb.Election"));
  grpc.addService("v3lockpb.Lock", passThrough(up, "v3lockpb.Lock"));
  void cluster.follow();
  const registration = cfg.resolverPrefix === "" ? undefined : new Registration({
    up,
    ns,
    prefix: cfg.resolverPrefix,
    addr: cfg.advertiseClientUrl,
    ttl: cfg.resolverTtl,
    hostname,
    log: io.plog,
  });
  return {
    up,
    grpc,
    registration,
    closers: [
      () => registration?.close(),
      () => cluster.close(),
      () => lease.close(),
      () => hub.close(),
    ],
  };
}

/** Fails start-up with etcd's words where a flag cannot take effect; warns where it has none. */
function checkFlags(cfg: GrpcProxyConfig, io: GrpcProxyIO): void {
  if (cfg.leasingPrefix !== "") {
    throw new StartError(
      "--experimental-leasing-prefix is not supported: etcd-ts has no leasing KV",
    );
  }
  if (cfg.enablePprof) {
    io.log.warn({
      pkg: "etcdmain",
      text: "--enable-pprof has no effect: etcd-ts has no Go runtime to profile",
    });
  }
}

async function start(cfg: GrpcProxyConfig, io: GrpcProxyIO): Promise<GrpcProxy> {
  checkFlags(cfg, io);
  const serverTLS = await listenTLS(cfg, io);
  const url = listenURL(cfg.listenAddr, serverTLS !== undefined);
  const clientTLS = upstreamTLS(cfg, io);
  const given = await clusterEndpoints(cfg, io);
  let endpoints: Endpoint[];
  try {
    endpoints = given.map((e) => parseEndpoint(e, clientTLS !== undefined));
  } catch (err) {
    throw new StartError((err as Error).message);
  }
  if (endpoints.length === 0) throw new StartError("etcdclient: no available endpoints");
  const up = new Upstream({
    endpoints,
    tls: (clientTLS ?? {}) as tls.ConnectionOptions,
    maxSendBytes: cfg.maxSendBytes,
    maxRecvBytes: cfg.maxRecvBytes,
    log: io.log,
  });
  const parts = buildServices(cfg, up, io);
  const http = proxyHttp({
    up,
    metricsEndpoint: endpoints[Math.floor(Math.random() * endpoints.length)],
    tls: (clientTLS ?? {}) as tls.ConnectionOptions,
  }, serverTLS !== undefined);
  const serve = async (where: URL, what: string) => {
    try {
      return await serveClient(where, {
        grpc: parts.grpc,
        http,
        tls: serverTLS,
        log: io.log,
        maxConcurrentStreams: cfg.maxConcurrentStreams,
      });
    } catch (err) {
      throw new StartError(listenError(what, err));
    }
  };
  const listeners = [await serve(url, cfg.listenAddr)];
  io.log.info({
    pkg: "etcdmain",
    text: "listening for gRPC proxy client requests",
    caller: "etcdmain/grpc_proxy.go:345",
    fields: { address: cfg.listenAddr },
  });
  if (cfg.metricsAddr !== "") listeners.push(await metricsListener(cfg, serverTLS, serve, io));
  io.log.info({
    pkg: "etcdmain",
    text: "started gRPC proxy",
    caller: "etcdmain/grpc_proxy.go:240",
    fields: { address: cfg.listenAddr },
  });
  void parts.registration?.run();
  const { address, port } = listeners[0].address;
  return {
    address: `${address.includes(":") ? `[${address}]` : address}:${port}`,
    close: async () => {
      for (const c of parts.closers) c();
      up.close();
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}

/**
 * --discovery-srv: the cluster's client URLs from SRV records (checked as etcd checks them,
 * against --cacert), or --endpoints when none survive.
 */
async function clusterEndpoints(cfg: GrpcProxyConfig, io: GrpcProxyIO): Promise<string[]> {
  if (cfg.discoverySrv === "") return cfg.endpoints;
  try {
    const found = await discoverEndpoints({
      domain: cfg.discoverySrv,
      srvName: cfg.discoverySrvName,
      insecure: cfg.insecureDiscovery,
      trustedCaFile: cfg.upstream.cacert,
      resolver: io.resolver ?? systemResolver,
      log: io.log,
    });
    return found.endpoints.length > 0 ? found.endpoints : cfg.endpoints;
  } catch (err) {
    throw new StartError((err as Error).message);
  }
}

/** --metrics-addr: /metrics and /health on one more URL (https with the port's TLS). */
async function metricsListener(
  cfg: GrpcProxyConfig,
  serverTLS: ServerTLS | undefined,
  serve: (u: URL, what: string) => ReturnType<typeof serveClient>,
  io: GrpcProxyIO,
) {
  let url: URL;
  try {
    url = new URL(cfg.metricsAddr);
  } catch {
    throw new StartError(`cannot parse ${JSON.stringify(cfg.metricsAddr)}`);
  }
  if (url.protocol === "https:" && !serverTLS) {
    throw new StartError(`TLS certificates are required for ${cfg.metricsAddr}`);
  }
  const l = await serve(url, url.host);
  io.log.info({
    pkg: "etcdmain",
    text: "gRPC proxy listening for metrics",
    fields: { address: cfg.metricsAddr },
  });
  return l;
}

/**
 * Starts the proxy; on a start-up failure prints etcd's message on stderr and returns the exit
 * code instead.
 */
export async function startGrpcProxy(
  cfg: GrpcProxyConfig,
  io: GrpcProxyIO,
): Promise<GrpcProxy | number> {
  try {
    return await start(cfg, io);
  } catch (err) {
    if (!(err instanceof StartError)) throw err;
    io.stderr(`${err.message}\n`);
    return 1;
  }
}
