// Checks etcd makes while setting up its listeners (embed.StartEtcd). They run after the
// bootstrap checks in etcd-ts, so the server calls this just before opening any socket.
import { formatURL } from "./etcd_url.ts";
import { goQuote } from "./gostr.ts";
import type { Config, TLSConfig } from "./types.ts";
import { parseGoURL } from "./urls.ts";

/** Cipher-suite names Go's crypto/tls (and so etcd) knows. */
export const CIPHER_SUITES = [
  "TLS_RSA_WITH_RC4_128_SHA",
  "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA",
  "TLS_RSA_WITH_AES_256_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
];

/** host[:port] as Go keeps it (WHATWG drops an explicit default port). */
function goHost(u: URL): string {
  const parsed = parseGoURL(formatURL(u));
  return "error" in parsed ? u.host : parsed.host;
}

const isTLS = (u: URL) => u.protocol === "https:" || u.protocol === "unixs:";
const noCerts = (t: TLSConfig) => t.certFile === "" && t.keyFile === "";

/**
 * The fatal message etcd prints when a listener cannot be configured (unknown cipher suite,
 * https without certificates, peer allowed CN and hostname both set), or undefined.
 */
export function listenerConfigError(config: Config): string | undefined {
  for (const name of config.cipherSuites) {
    if (!CIPHER_SUITES.includes(name)) return `unexpected TLS cipher suite ${goQuote(name)}`;
  }
  const peer = config.peerTLS;
  for (const u of config.listenPeerUrls) {
    if (!isTLS(u)) continue;
    if (noCerts(peer) && !peer.autoTLS) {
      return `cannot listen on TLS for ${goHost(u)}: KeyFile and CertFile are not presented`;
    }
    // Auto-TLS replaces the whole peer TLS set-up, allowed names included (etcd's PeerSelfCert).
    const selfCert = noCerts(peer) && peer.autoTLS;
    if (!selfCert && peer.allowedCN !== "" && peer.allowedHostname !== "") {
      return `AllowedCN and AllowedHostname are mutually exclusive (cn=${
        goQuote(peer.allowedCN)
      }, hostname=${goQuote(peer.allowedHostname)})`;
    }
  }
  for (const u of config.listenClientUrls) {
    if (isTLS(u) && noCerts(config.clientTLS) && !config.clientTLS.autoTLS) {
      return `TLS key/cert (--cert-file, --key-file) must be provided for client url ${
        formatURL(u)
      } with HTTPS scheme`;
    }
  }
  return undefined;
}
