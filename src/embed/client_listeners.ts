// The client listeners of one member: every --listen-client-urls address serves gRPC and HTTP
// on one port (an http:// and an https:// URL of the same host:port share it, as in etcd; unix://
// and unixs:// URLs listen on a socket file). They open before the member is ready (so clients
// can connect early) but requests wait for readiness; "serving ... requests on" is logged once
// the member serves.
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  type ClientListener,
  createClientHttp,
  GrpcServer,
  type KeepaliveParams,
  registerServices,
  serveClient,
} from "../api/mod.ts";
import { type EtcdServer, GRPC_OVERHEAD_BYTES } from "../server/mod.ts";
import {
  isTLSURL,
  isUnixURL,
  listenErrorText,
  loadServerTLS,
  logTLSInfo,
  resolveAutoTLS,
  type ServerTLS,
} from "../tls/mod.ts";

export interface OpenListener {
  announce(): void;
  close(): Promise<void>;
}

/**
 * etcd's ClientSelfCert and client TLS set-up: auto-TLS certificates for the listen hosts (or
 * the warning that given certificates win), `ClientTLS: ...`, then the server options every
 * https URL shares. A file that cannot be loaded is fatal, worded as etcd's listener error.
 */
async function clientServerTLS(config: Config, log: Logger): Promise<ServerTLS | undefined> {
  const clientTLS = await resolveAutoTLS(config.clientTLS, {
    port: "client",
    dataDir: config.dataDir,
    hosts: config.listenClientUrls.map((u) => u.host),
    validityYears: config.selfSignedCertValidity,
    log,
  });
  if (clientTLS.certFile === "" && clientTLS.keyFile === "") return undefined;
  logTLSInfo("client", clientTLS, config.cipherSuites, log);
  if (!config.listenClientUrls.some(isTLSURL)) return undefined;
  try {
    return await loadServerTLS(clientTLS, {
      port: "client",
      cipherSuites: config.cipherSuites,
      minVersion: config.tlsMinVersion,
      maxVersion: config.tlsMaxVersion,
      log,
    });
  } catch (err) {
    const text = (err as Error).message;
    log.fatal({ pkg: "etcdmain", text, msg: "listener failed", fields: { error: text } });
  }
}

/** The URLs of one listen address (etcd's serveCtx): whether it serves TLS, plain, or both. */
interface Address {
  url: URL;
  secure: boolean;
  insecure: boolean;
}

/** etcd keys its client listeners by the URL's host:port as written (the path for unix URLs). */
function groupByAddress(urls: URL[]): Address[] {
  const byAddr = new Map<string, Address>();
  for (const url of urls) {
    const key = `${isUnixURL(url) ? "unix" : "tcp"} ${url.host}`;
    const secure = isTLSURL(url);
    const known = byAddr.get(key);
    if (!known) byAddr.set(key, { url, secure, insecure: !secure });
    else if (secure && !known.secure) byAddr.set(key, { url, secure, insecure: true });
    else known.insecure ||= !secure;
  }
  return [...byAddr.values()];
}

/**
 * gRPC keepalive as etcd sets up its gRPC server: --grpc-keepalive-min-time when positive
 * (else grpc-go's 5 minutes); --grpc-keepalive-interval and -timeout when both are positive
 * (else grpc-go's 2 hours and 20 seconds).
 */
function keepaliveOf(config: Config): KeepaliveParams {
  const both = config.grpcKeepaliveInterval > 0 && config.grpcKeepaliveTimeout > 0;
  return {
    minTimeMs: config.grpcKeepaliveMinTime > 0 ? config.grpcKeepaliveMinTime : 5 * 60_000,
    intervalMs: both ? config.grpcKeepaliveInterval : 2 * 60 * 60_000,
    timeoutMs: both ? config.grpcKeepaliveTimeout : 20_000,
  };
}

/** etcd's minWatchProgressInterval. */
const MIN_WATCH_PROGRESS_MS = 100;

/**
 * etcd's NewWatchServer: a positive --experimental-watch-progress-notify-interval replaces the
 * default 10 minutes, raised to 100ms with a warning when shorter.
 */
function setWatchProgressInterval(config: Config, server: EtcdServer, log: Logger): void {
  const ms = config.experimentalWatchProgressNotifyInterval;
  if (!(ms > 0)) return;
  if (ms < MIN_WATCH_PROGRESS_MS) {
    log.warn({
      pkg: "etcdserver/api/v3rpc",
      text: `adjusting watch progress notify interval to minimum period ${MIN_WATCH_PROGRESS_MS}ms`,
      msg: "adjusting watch progress notify interval to minimum period",
      fields: { "min-watch-progress-notify-interval": `${MIN_WATCH_PROGRESS_MS}ms` },
    });
  }
  server.watchers.setProgressInterval(Math.max(ms, MIN_WATCH_PROGRESS_MS));
}

export async function openClientListeners(
  config: Config,
  server: EtcdServer,
  log: Logger,
): Promise<OpenListener[]> {
  setWatchProgressInterval(config, server, log);
  const grpc = new GrpcServer({
    maxReceiveMessageSize: config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
  });
  registerServices(grpc, server);
  const http = createClientHttp(server, config, grpc, log);
  const tls = await clientServerTLS(config, log);
  const out: OpenListener[] = [];
  for (const { url, secure, insecure } of groupByAddress(config.listenClientUrls)) {
    let listener: ClientListener;
    try {
      listener = await serveClient(url, {
        grpc,
        http,
        tls: secure ? tls : undefined,
        alsoPlain: secure && insecure,
        log,
        maxConcurrentStreams: config.maxConcurrentStreams,
        keepalive: keepaliveOf(config),
      });
    } catch (err) {
      const text = listenErrorText(url, err);
      return log.fatal({ pkg: "etcdmain", text, msg: "discovery failed", fields: { error: text } });
    }
    out.push({
      announce: () => announce(log, listener.addr, { secure, insecure }),
      close: () => listener.close(),
    });
  }
  return out;
}

/** etcd's lines once an address serves clients: the insecure one first. */
function announce(log: Logger, address: string, how: { secure: boolean; insecure: boolean }) {
  if (how.insecure) {
    log.notice({
      pkg: "embed",
      text: `serving insecure client requests on ${address}, this is strongly discouraged!`,
      msg: "serving client traffic insecurely; this is strongly discouraged!",
      fields: { address },
    });
  }
  if (how.secure) {
    log.info({
      pkg: "embed",
      text: `serving client requests on ${address}`,
      msg: "serving client traffic securely",
      fields: { address },
    });
  }
}
