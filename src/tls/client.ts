// What a member presents and trusts when it dials: peers (its peer certificate as client
// certificate, the peer CA), or https discovery (system roots, no certificate).
import type tls from "node:tls";
import type { TLSConfig } from "../config/mod.ts";
import { loadCABundle, loadKeyPair } from "./files.ts";
import { systemTrust } from "./trust.ts";

/** node:tls client options (the peer transport's PeerClientTLS is a subset). */
export type ClientTLS = Pick<
  tls.ConnectionOptions,
  "ca" | "cert" | "key" | "rejectUnauthorized" | "servername" | "minVersion" | "ciphers"
>;

/**
 * etcd's TLSInfo.ClientConfig: the certificate (3.5: --peer-client-cert-file if given, else
 * the peer certificate) as client certificate, the trusted CA file or the system roots, and
 * no verification of the server when the pair is auto-TLS's self-signed one.
 */
export function loadClientTLS(cfg: TLSConfig): Promise<ClientTLS> {
  return Promise.resolve().then(() => loadClientTLSSync(cfg));
}

export function loadClientTLSSync(cfg: TLSConfig): ClientTLS {
  const out: ClientTLS = { minVersion: "TLSv1.2" };
  const certFile = cfg.clientCertFile !== "" ? cfg.clientCertFile : cfg.certFile;
  const keyFile = cfg.clientKeyFile !== "" ? cfg.clientKeyFile : cfg.keyFile;
  if (certFile !== "" || keyFile !== "") {
    const pair = loadKeyPair(certFile, keyFile);
    out.cert = pair.cert;
    out.key = pair.key;
  }
  out.ca = cfg.trustedCAFile !== "" ? loadCABundle(cfg.trustedCAFile) : systemTrust();
  out.rejectUnauthorized = !cfg.autoTLS;
  return out;
}
