// etcd's serveMetrics: --metrics=extensive turns on the gRPC handling time histogram, and each
// --listen-metrics-urls URL serves /metrics and /health (https ones with the client
// certificates). --enable-pprof is announced here too, as etcd does while setting up clients.
import type { Config } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import { createMetricsHttp, enableHandlingTimeHistogram, serveClient } from "../api/mod.ts";
import { PPROF_PREFIX } from "../api/mod.ts";
import type { EtcdServer } from "../server/mod.ts";
import { loadServerTLS, resolveAutoTLS, type ServerTLS } from "../tls/mod.ts";
import type { OpenListener } from "./client_listeners.ts";

export function announcePprof(config: Config, log: Logger): void {
  if (!config.enablePprof) return;
  log.info({
    pkg: "embed",
    text: `pprof is enabled under ${PPROF_PREFIX}`,
    msg: "pprof is enabled",
    fields: { path: PPROF_PREFIX },
  });
}

export async function openMetricsListeners(
  config: Config,
  server: EtcdServer,
  log: Logger,
): Promise<OpenListener[]> {
  if (config.metrics === "extensive") enableHandlingTimeHistogram();
  if (config.listenMetricsUrls.length === 0) return [];
  const http = createMetricsHttp(server);
  const secure = config.listenMetricsUrls.find((u) => u.protocol === "https:");
  const tls = secure && await metricsTLS(config, secure, log);
  const out: OpenListener[] = [];
  for (const url of config.listenMetricsUrls) {
    let listener;
    try {
      listener = await serveClient(url, {
        http,
        tls: url.protocol === "https:" ? tls : undefined,
        log,
      });
    } catch (err) {
      const text = `listen tcp ${url.host}: bind: ${(err as Error).message}`;
      log.fatal({ pkg: "etcdmain", text, msg: "discovery failed", fields: { error: text } });
    }
    const address = url.toString().replace(/\/$/, "");
    log.info({
      pkg: "embed",
      text: `listening for metrics on ${address}`,
      msg: "serving metrics",
      fields: { address },
    });
    out.push({ announce: () => {}, close: () => listener.close() });
  }
  return out;
}

/** etcd serves https metrics URLs with the client certificates (self-signed ones too). */
async function metricsTLS(config: Config, url: URL, log: Logger): Promise<ServerTLS> {
  const fatal = (text: string): never =>
    log.fatal({ pkg: "etcdmain", text, msg: "discovery failed", fields: { error: text } });
  let info = config.clientTLS;
  if (info.autoTLS && info.certFile === "" && info.keyFile === "") {
    info = await resolveAutoTLS(info, {
      port: "client",
      dataDir: config.dataDir,
      hosts: config.listenClientUrls.map((u) => u.host),
      validityYears: config.selfSignedCertValidity,
      log,
    });
  }
  if (info.certFile === "" || info.keyFile === "") {
    fatal(`cannot listen on TLS for ${url.host}: KeyFile and CertFile are not presented`);
  }
  try {
    return await loadServerTLS(info, {
      port: "client",
      cipherSuites: config.cipherSuites,
      minVersion: config.tlsMinVersion,
      maxVersion: config.tlsMaxVersion,
      log,
    });
  } catch (err) {
    return fatal((err as Error).message);
  }
}
