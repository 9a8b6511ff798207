// The checks etcd makes on an accepted TLS connection before serving it: client-certificate
// verdict, allowed CN / hostname, CRL, and (peer port) the certificate's SANs against the
// connection's source address.
import crypto from "node:crypto";
import dns from "node:dns";
import net from "node:net";
import type tls from "node:tls";
import { validityError } from "./files.ts";
import { checkCRL } from "./crl.ts";
import { canonicalIP, type CertNames, certNames, quoteList, verifyHostname } from "./names.ts";

export interface ConnectionPolicy {
  /** --trusted-ca-file or --client-cert-auth: a verified client certificate is mandatory. */
  requireClientCert: boolean;
  /** --peer-cert-allowed-cn (3.5: comma list, any match). */
  allowedCN: string[];
  /** --peer-cert-allowed-hostname / --client-cert-allowed-hostname (3.5: comma list). */
  allowedHostname: string[];
  /** --client-crl-file / --peer-crl-file, re-read per connection; "" for none. */
  crlFile: string;
  /** Peer port without --experimental-peer-skip-client-san-verification. */
  checkSAN: boolean;
}

/** Name look-ups of the SAN check (replaceable in tests). */
export interface Resolver {
  /** PTR names of an IP (Go's LookupAddr: /etc/hosts, then DNS). */
  reverse(ip: string): Promise<string[]>;
  /** Addresses of a name (Go's LookupHost: /etc/hosts, then DNS). */
  lookup(name: string): Promise<string[]>;
}

function hostsFile(): [string, string[]][] {
  try {
    return Deno.readTextFileSync("/etc/hosts").split("\n")
      .map((l) => l.replace(/#.*/, "").trim().split(/\s+/))
      .filter((f) => f.length >= 2 && net.isIP(f[0]) !== 0)
      .map((f) => [canonicalIP(f[0]), f.slice(1)]);
  } catch {
    return [];
  }
}

export const systemResolver: Resolver = {
  async reverse(ip) {
    const names = hostsFile().filter(([a]) => a === ip).flatMap(([, n]) => n);
    if (names.length > 0) return names;
    try {
      return await dns.promises.reverse(ip);
    } catch {
      return [];
    }
  },
  async lookup(name) {
    try {
      const all = await dns.promises.lookup(name, { all: true });
      return all.map((a) => canonicalIP(a.address));
    } catch {
      return [];
    }
  },
};

/** etcd's isHostInDNS: a PTR name of the IP matches a SAN, or a SAN name resolves to the IP. */
async function hostInDNS(ip: string, dnsNames: string[], resolver: Resolver): Promise<boolean> {
  const wildcards = dnsNames.filter((d) => d.startsWith("*.")).map((d) => d.slice(1));
  const names = dnsNames.filter((d) => !d.startsWith("*."));
  for (let name of await resolver.reverse(ip)) {
    name = name.replace(/\.$/, "");
    if (wildcards.some((w) => name.endsWith(w)) || names.includes(name)) return true;
  }
  for (const name of names) {
    if ((await resolver.lookup(name)).includes(ip)) return true;
  }
  return false;
}

/** etcd's checkCertSAN: the remote IP must be one of the certificate's IP or DNS SANs. */
export async function checkCertSAN(
  names: CertNames,
  remoteIP: string,
  resolver: Resolver = systemResolver,
): Promise<string | undefined> {
  if (names.ips.length === 0 && names.dnsNames.length === 0) return undefined;
  const ip = canonicalIP(remoteIP);
  let ipErr: string | undefined;
  if (names.ips.length > 0) {
    ipErr = verifyHostname(names, ip);
    if (ipErr === undefined) return undefined;
    if (names.dnsNames.length === 0) return ipErr;
  }
  if (await hostInDNS(ip, names.dnsNames, resolver)) return undefined;
  return `tls: ${JSON.stringify(ip)} does not match any of DNSNames ${quoteList(names.dnsNames)}`;
}

/** The certificates the peer presented, leaf first. */
export function presentedChain(socket: tls.TLSSocket): crypto.X509Certificate[] {
  const leaf = (socket as { getPeerX509Certificate?: () => crypto.X509Certificate | undefined })
    .getPeerX509Certificate?.();
  const out: crypto.X509Certificate[] = [];
  for (let c = leaf; c && out.length < 10; c = c.issuerCertificate) {
    if (out.some((o) => o.fingerprint256 === c!.fingerprint256)) break;
    out.push(c);
  }
  return out;
}

/** A comma-separated list flag (3.5's allowed CNs and hostnames), blanks dropped. */
export const splitNameList = (s: string): string[] =>
  s.split(",").map((x) => x.trim()).filter((x) => x !== "");

/** etcd's error when a certificate has none of the allowed CNs or hostnames. */
export const CERT_NAME_REFUSED = "client certificate authentication failed";

/**
 * etcd's VerifyPeerCertificate of --peer-cert-allowed-cn / --peer-cert-allowed-hostname, which
 * both ends of a peer connection apply to the other's certificate: the CN must be an allowed
 * one, or (with hostnames) the certificate must be valid for one of the hostnames.
 */
export function allowedNameError(
  names: CertNames,
  allowed: { cn: string[]; hostname: string[] },
): string | undefined {
  if (allowed.cn.length > 0 && !allowed.cn.includes(names.commonName)) return CERT_NAME_REFUSED;
  if (
    allowed.hostname.length > 0 &&
    !allowed.hostname.some((h) => verifyHostname(names, h) === undefined)
  ) {
    return CERT_NAME_REFUSED;
  }
  return undefined;
}

/** Why the runtime refused the presented chain, worded as Go's handshake error. */
function chainError(leaf: crypto.X509Certificate, now: Date): string {
  const reason = validityError(leaf, now) ?? "x509: certificate signed by unknown authority";
  return `tls: failed to verify client certificate: ${reason}`;
}

/**
 * The error etcd would log for this connection, or undefined when it may be served. The TLS
 * layer must have been set up with requestCert and without rejectUnauthorized (the socket's
 * `authorized` verdict is read here) whenever `requireClientCert` is set.
 */
export async function verifyPeerConnection(
  socket: tls.TLSSocket,
  policy: ConnectionPolicy,
  opts: { resolver?: Resolver; now?: Date } = {},
): Promise<string | undefined> {
  const chain = presentedChain(socket);
  const leaf = chain[0];
  if (policy.requireClientCert) {
    if (!leaf) return "tls: client didn't provide a certificate";
    if (!socket.authorized) return chainError(leaf, opts.now ?? new Date());
    const err = allowedNameError(certNames(leaf), {
      cn: policy.allowedCN,
      hostname: policy.allowedHostname,
    });
    if (err !== undefined) return err;
  }
  if (policy.crlFile !== "" && chain.length > 0) {
    let err: string | undefined;
    try {
      err = await checkCRL(policy.crlFile, chain.map((c) => c.serialNumber));
    } catch (e) {
      err = (e as Error).message;
    }
    if (err !== undefined) return err;
  }
  if (policy.checkSAN && leaf) {
    if (socket.remoteAddress) {
      return await checkCertSAN(certNames(leaf), socket.remoteAddress, opts.resolver);
    }
    // A unix socket's client has no address ("@" to Go), which etcd's SAN check cannot split:
    // unixs peers need --experimental-peer-skip-client-san-verification, or certificates
    // without SANs.
    const names = certNames(leaf);
    if (names.ips.length > 0 || names.dnsNames.length > 0) {
      return "address @: missing port in address";
    }
  }
  return undefined;
}
