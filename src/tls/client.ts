// What a member presents and trusts when it dials: peers (its peer certificate as client
// certificate, the peer CA, the allowed CN or hostnames), or https discovery (system roots, no
// certificate).
import crypto from "node:crypto";
import tls from "node:tls";
import type { TLSConfig } from "../config/mod.ts";
import { loadCABundle, loadKeyPair } from "./files.ts";
import { certNames } from "./names.ts";
import { systemTrust } from "./trust.ts";
import { allowedNameError, splitNameList } from "./verify.ts";

/** node:tls client options (the peer transport's PeerClientTLS is a subset). */
export type ClientTLS = Pick<
  tls.ConnectionOptions,
  | "ca"
  | "cert"
  | "key"
  | "rejectUnauthorized"
  | "servername"
  | "minVersion"
  | "ciphers"
  | "checkServerIdentity"
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
  const check = allowedNamesCheck(cfg);
  if (check) out.checkServerIdentity = check;
  return out;
}

/**
 * etcd puts the allowed CN / hostname check in the TLS config both ends share, so a member
 * refuses to talk to a peer whose server certificate fails it too ("client certificate
 * authentication failed", in etcd's words on the dialling side). The usual hostname check
 * comes first. (With auto-TLS the runtime ignores this verdict, as it ignores the chain's.)
 */
function allowedNamesCheck(cfg: TLSConfig): ClientTLS["checkServerIdentity"] {
  const allowed = {
    cn: splitNameList(cfg.allowedCN),
    hostname: splitNameList(cfg.allowedHostname),
  };
  if (allowed.cn.length === 0 && allowed.hostname.length === 0) return undefined;
  return (hostname, cert) => {
    const err = tls.checkServerIdentity(hostname, cert);
    if (err) return err;
    const refused = allowedNameError(certNames(new crypto.X509Certificate(cert.raw)), allowed);
    return refused === undefined ? undefined : new Error(refused);
  };
}
