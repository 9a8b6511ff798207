// etcd's start-up lines describing a port's TLS settings.
import type { Logger } from "../log/mod.ts";
import type { TLSConfig } from "../config/mod.ts";

/** Go's TLSInfo.String(). */
export function tlsInfoString(cfg: TLSConfig): string {
  return `cert = ${cfg.certFile}, key = ${cfg.keyFile}, trusted-ca = ${cfg.trustedCAFile}, ` +
    `client-cert-auth = ${cfg.clientCertAuth}, crl-file = ${cfg.crlFile}`;
}

/** `ClientTLS: ...` / `peerTLS: ...` (zap: `starting with client TLS` / `... peer TLS`). */
export function logTLSInfo(
  port: "client" | "peer",
  cfg: TLSConfig,
  cipherSuites: string[],
  log: Logger,
): void {
  const info = tlsInfoString(cfg);
  log.info({
    pkg: "embed",
    text: port === "client" ? `ClientTLS: ${info}` : `peerTLS: ${info}`,
    msg: `starting with ${port} TLS`,
    fields: { "tls-info": info, "cipher-suites": cipherSuites },
  });
}
