// Server-side TLS options of the client and peer ports from their flags.
import tls from "node:tls";
import type { Logger } from "../log/mod.ts";
import type { TLSConfig } from "../config/mod.ts";
import { opensslCiphers } from "./ciphers.ts";
import { type KeyPair, loadCABundle, loadKeyPair, validityError } from "./files.ts";
import { systemTrust } from "./trust.ts";
import { type ConnectionPolicy, splitNameList } from "./verify.ts";

/** Where loadServerTLS keeps what createSecureServer needs beyond node's options. */
export const SERVER_POLICY: unique symbol = Symbol("etcd-ts.tls.policy");

export interface ServerTLSInfo {
  policy: ConnectionPolicy;
  certFile: string;
  keyFile: string;
}

export type ServerTLS = tls.SecureContextOptions & tls.TlsOptions & {
  [SERVER_POLICY]: ServerTLSInfo;
};

export interface ServerTLSOptions {
  /** "client" for the client port, "peer" for the peer port. */
  port: "client" | "peer";
  cipherSuites?: string[];
  /** --tls-min-version / --tls-max-version (3.5: "TLS1.2", "TLS1.3"); min defaults to TLS1.2. */
  minVersion?: string;
  maxVersion?: string;
  /** --experimental-peer-skip-client-san-verification. */
  skipClientSANVerification?: boolean;
  /** Warns when the member's own certificate is outside its dates. */
  log?: Logger;
  now?: Date;
}

function protocolVersion(v: string | undefined): tls.SecureVersion | undefined {
  if (v === undefined || v === "") return undefined;
  const m = v.match(/^TLS1\.([0-3])$/);
  if (!m) {
    throw new Error(`unexpected TLS version ${JSON.stringify(v)} (must be one of: TLS1.2, TLS1.3)`);
  }
  return `TLSv1${m[1] === "0" ? "" : "." + m[1]}` as tls.SecureVersion;
}

/** The member's own certificate being out of its dates is allowed (as etcd) but worth a line. */
export function warnCertificateDates(
  pair: KeyPair,
  certFile: string,
  log: Logger | undefined,
  now: Date,
): void {
  const err = validityError(pair.leaf, now);
  if (err === undefined || !log) return;
  log.warn({
    pkg: "embed",
    text: `certificate ${certFile} is not valid now (${err})`,
    msg: "certificate is expired or not yet valid",
    fields: { "cert-file": certFile, error: err },
  });
}

/**
 * node:tls server options for one port from its flags (spec/tls.md §1). Client certificates
 * are required and verified when a trusted CA file is given or client-cert-auth is on (against
 * the system roots without a CA file). Used as is by tls.createServer they refuse bad client
 * certificates in the handshake; createSecureServer applies the rest of etcd's checks.
 */
export function loadServerTLS(cfg: TLSConfig, opts: ServerTLSOptions): Promise<ServerTLS> {
  return Promise.resolve().then(() => loadServerTLSSync(cfg, opts));
}

export function loadServerTLSSync(cfg: TLSConfig, opts: ServerTLSOptions): ServerTLS {
  const pair = loadKeyPair(cfg.certFile, cfg.keyFile);
  warnCertificateDates(pair, cfg.certFile, opts.log, opts.now ?? new Date());
  const requireClientCert = cfg.trustedCAFile !== "" || cfg.clientCertAuth;
  const ca = cfg.trustedCAFile !== ""
    ? loadCABundle(cfg.trustedCAFile)
    : requireClientCert
    ? systemTrust()
    : undefined;
  const ciphers = opensslCiphers(opts.cipherSuites ?? []);
  const policy: ConnectionPolicy = {
    requireClientCert,
    allowedCN: opts.port === "peer" ? splitNameList(cfg.allowedCN) : [],
    allowedHostname: splitNameList(cfg.allowedHostname),
    crlFile: cfg.crlFile,
    checkSAN: opts.port === "peer" && !opts.skipClientSANVerification,
  };
  const out: ServerTLS = {
    cert: pair.cert,
    key: pair.key,
    minVersion: protocolVersion(opts.minVersion) ?? "TLSv1.2",
    [SERVER_POLICY]: { policy, certFile: cfg.certFile, keyFile: cfg.keyFile },
  };
  const max = protocolVersion(opts.maxVersion);
  if (max) out.maxVersion = max;
  if (ca) out.ca = ca;
  if (ciphers) out.ciphers = ciphers;
  if (requireClientCert) {
    out.requestCert = true;
    out.rejectUnauthorized = true;
  }
  return out;
}
