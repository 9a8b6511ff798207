// The client and peer transport security flags (--cert-file ... and --peer-cert-file ...) as
// two TLSConfigs, with the other TLS settings of the listeners, and the warnings etcd prints
// while configuring its listeners when these flags do not apply to a URL.
import { type Notice, notice } from "./notice.ts";
import type { Config, TLSConfig } from "./types.ts";
import type { Values } from "./values.ts";

type SecurityFields =
  | "clientTLS"
  | "peerTLS"
  | "cipherSuites"
  | "cors"
  | "hostWhitelist"
  | "experimentalPeerSkipClientSanVerification"
  | "selfSignedCertValidity"
  | "tlsMinVersion"
  | "tlsMaxVersion";

/** The listeners' TLS settings; pushes the warnings for flags a URL's scheme makes moot. */
export function securityConfig(v: Values, notices: Notice[]): Pick<Config, SecurityFields> {
  const clientTLS = transportSecurity(v, false);
  const peerTLS = transportSecurity(v, true);
  ignoredSecurityNotices(v, clientTLS, peerTLS, notices);
  clientPairNotices(v, notices);
  return {
    clientTLS,
    peerTLS,
    cipherSuites: v.list("cipher-suites"),
    cors: v.list("cors"),
    hostWhitelist: v.list("host-whitelist"),
    experimentalPeerSkipClientSanVerification: v.bool(
      "experimental-peer-skip-client-san-verification",
    ),
    selfSignedCertValidity: v.num("self-signed-cert-validity"),
    tlsMinVersion: v.str("tls-min-version"),
    tlsMaxVersion: v.str("tls-max-version"),
  };
}

// The peer flags are the client ones with a "peer-" prefix, except for the CRL and the allowed
// names, which carry a "client-" prefix on the client side.
function transportSecurity(v: Values, peer: boolean): TLSConfig {
  const p = peer ? "peer-" : "";
  return {
    certFile: v.str(p + "cert-file"),
    keyFile: v.str(p + "key-file"),
    clientCertFile: v.str(p + "client-cert-file"),
    clientKeyFile: v.str(p + "client-key-file"),
    clientCertAuth: v.bool(p + "client-cert-auth"),
    trustedCAFile: v.str(p + "trusted-ca-file"),
    autoTLS: v.bool(p + "auto-tls"),
    crlFile: v.str(peer ? "peer-crl-file" : "client-crl-file"),
    allowedCN: v.str(peer ? "peer-cert-allowed-cn" : "client-cert-allowed-cn"),
    allowedHostname: v.str(peer ? "peer-cert-allowed-hostname" : "client-cert-allowed-hostname"),
  };
}

// etcd 3.5 presents --client-cert-file when its JSON gateway dials the member's own client
// port; etcd-ts's gateway calls the server in-process, so only a v2 proxy, which dials the
// members' client URLs, has a use for the pair.
function clientPairNotices(v: Values, notices: Notice[]): void {
  if (v.str("proxy") !== "off") return;
  for (const flag of ["client-cert-file", "client-key-file"]) {
    const value = v.str(flag);
    if (value === "") continue;
    notices.push(
      notice(
        "warn",
        "embed",
        `--${flag}=${value} has no effect on a member: it opens no TLS connection to client URLs (its JSON gateway calls the server in-process); a v2 proxy presents it to the members`,
        "flag has no effect on a member: it opens no TLS connection to client URLs",
        { flag, value },
      ),
    );
  }
}

// Warnings etcd prints while configuring listeners, which never stop the start.
function ignoredSecurityNotices(
  v: Values,
  client: TLSConfig,
  peer: TLSConfig,
  notices: Notice[],
): void {
  const empty = (t: TLSConfig) => t.certFile === "" && t.keyFile === "";
  if (client.autoTLS && !empty(client)) {
    notices.push(notice("warn", "embed", "ignoring client auto TLS since certs given"));
  }
  if (peer.autoTLS && !empty(peer)) {
    notices.push(notice("warn", "embed", "ignoring peer auto TLS since certs given"));
  }
  for (const u of v.list("listen-peer-urls")) {
    if (!u.startsWith("http:")) continue;
    if (!empty(peer)) {
      notices.push(
        notice(
          "warn",
          "embed",
          `The scheme of peer url ${u} is HTTP while peer key/cert files are presented. Ignored peer key/cert files.`,
        ),
      );
    }
    if (peer.clientCertAuth) {
      notices.push(
        notice(
          "warn",
          "embed",
          `The scheme of peer url ${u} is HTTP while client cert auth (--peer-client-cert-auth) is enabled. Ignored client cert auth for this url.`,
        ),
      );
    }
  }
  for (const u of v.list("listen-client-urls")) {
    if (!u.startsWith("http:") && !u.startsWith("unix:")) continue;
    if (!empty(client)) {
      notices.push(
        notice(
          "warn",
          "embed",
          `The scheme of client url ${u} is HTTP while peer key/cert files are presented. Ignored key/cert files.`,
        ),
      );
    }
    if (client.clientCertAuth) {
      notices.push(
        notice(
          "warn",
          "embed",
          `The scheme of client url ${u} is HTTP while client cert auth (--client-cert-auth) is enabled. Ignored client cert auth for this url.`,
        ),
      );
    }
  }
}
