// The client listeners of one member: every --listen-client-urls URL serves gRPC and HTTP on
// one port. They open before the member is ready (so clients can connect early) but requests
// wait for readiness; "serving ... requests on" is logged once the member serves.
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { GrpcServer, serveClient } from "../api/mod.ts";
import { createClientHttp, registerServices } from "../api/mod.ts";
import { type EtcdServer, GRPC_OVERHEAD_BYTES } from "../server/mod.ts";
import {
  listenHost,
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
  if (!config.listenClientUrls.some((u) => u.protocol === "https:")) return undefined;
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

export async function openClientListeners(
  config: Config,
  server: EtcdServer,
  log: Logger,
): Promise<OpenListener[]> {
  const grpc = new GrpcServer({
    maxReceiveMessageSize: config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
  });
  registerServices(grpc, server);
  const http = createClientHttp(server, config, grpc, log);
  const tls = await clientServerTLS(config, log);
  const out: OpenListener[] = [];
  for (const url of config.listenClientUrls) {
    let listener;
    try {
      listener = await serveClient(url, {
        grpc,
        http,
        tls: url.protocol === "https:" ? tls : undefined,
        log,
        maxConcurrentStreams: config.maxConcurrentStreams,
      });
    } catch (err) {
      log.fatal({
        pkg: "etcdmain",
        text: `listen tcp ${url.host}: bind: ${(err as Error).message}`,
        msg: "discovery failed",
        fields: { error: (err as Error).message },
      });
    }
    const host = `${listenHost(url)}:${listener.address.port}`;
    out.push({
      announce: () =>
        url.protocol === "https:"
          ? log.info({
            pkg: "embed",
            text: `serving client requests on ${host}`,
            msg: "serving client traffic securely",
            fields: { address: host },
          })
          : log.notice({
            pkg: "embed",
            text: `serving insecure client requests on ${host}, this is strongly discouraged!`,
            msg: "serving client traffic insecurely; this is strongly discouraged!",
            fields: { address: host },
          }),
      close: () => listener.close(),
    });
  }
  return out;
}
