// Certificate checks for SRV clusters: which names and addresses the other members (and
// clients) will verify this member's certificate against, and whether its SANs carry them.
import { X509Certificate } from "node:crypto";
import { certNames, verifyHostname } from "../tls/mod.ts";
import type { HostLookup } from "./records.ts";
import type { Report } from "./report.ts";

type CertNames = ReturnType<typeof certNames>;

export interface LoadedCert {
  path: string;
  cert: X509Certificate;
  names: CertNames;
}

export function loadCert(
  path: string,
  readFile: (path: string) => string,
): LoadedCert | { path: string; error: string } {
  try {
    const cert = new X509Certificate(readFile(path));
    return { path, cert, names: certNames(cert) };
  } catch (err) {
    return { path, error: (err as Error).message };
  }
}

export function sanText(names: CertNames): string {
  const all = [...names.dnsNames.map((d) => `DNS:${d}`), ...names.ips.map((i) => `IP:${i}`)];
  return all.length > 0 ? all.join(", ") : "none";
}

/** What a certificate is checked against, and how strictly. */
export interface CertExpectations {
  /** "peer" (--peer-cert-file) or "client" (--cert-file). */
  kind: "peer" | "client";
  flag: string;
  domain: string;
  /** The name others verify when they trust a CA file (this member's SRV target). */
  host?: string;
  /** The address this member connects from; peers compare it with the SANs. */
  ip?: string;
  /** Others verify against the SRV domain (ssl records, no custom CA). */
  domainRequired: boolean;
  /** Others verify against `host` (a CA file is given). */
  hostRequired: boolean;
  trustedCAFile: string;
  now: Date;
}

/** A SAN list line to paste into an openssl command. */
function sanSuggestion(names: CertNames, want: string[]): string {
  const have = [...names.dnsNames.map((d) => `DNS:${d}`), ...names.ips.map((i) => `IP:${i}`)];
  const merged = [...new Set([...want, ...have])];
  return `subjectAltName = ${merged.join(",")}`;
}

async function resolvesTo(hosts: HostLookup, name: string, ip: string): Promise<boolean> {
  if (name.startsWith("*")) return false;
  try {
    return (await hosts(name)).includes(ip);
  } catch {
    return false;
  }
}

export async function checkCert(
  report: Report,
  loaded: LoadedCert | { path: string; error: string },
  want: CertExpectations,
  hosts: HostLookup,
  readFile: (path: string) => string,
): Promise<void> {
  const label = `${want.kind} certificate ${loaded.path}`;
  report.section(label);
  if ("error" in loaded) {
    report.line(`cannot be read: ${loaded.error}`);
    report.problem(`${want.flag} ${loaded.path} cannot be read as a PEM certificate`, [
      loaded.error,
    ], [`point ${want.flag} at the member's PEM certificate`]);
    return;
  }
  const { cert, names } = loaded;
  report.line(`subject: ${cert.subject.replaceAll("\n", ", ")}`);
  report.line(`valid from ${cert.validFrom} to ${cert.validTo}`);
  report.line(`SANs: ${sanText(names)}`);
  checkValidity(report, cert, want);
  if (want.trustedCAFile !== "") checkSigner(report, cert, want, readFile);

  // One SAN list with everything the member needs, offered in every fix.
  const recommended = sanSuggestion(names, [
    `DNS:${want.domain}`,
    ...(want.host ? [`DNS:${want.host}`] : []),
    ...(want.kind === "peer" && want.ip ? [`IP:${want.ip}`] : []),
  ]);
  checkDomainSAN(report, names, want, recommended);
  if (want.host !== undefined) checkHostSAN(report, names, want, want.host, recommended);
  // Peers check the source address of this member's connections against its SANs.
  if (want.kind === "peer" && want.ip !== undefined && names.ips.length + names.dnsNames.length) {
    await checkAddressSAN(report, names, want.ip, hosts, recommended);
  }
}

function checkValidity(report: Report, cert: X509Certificate, want: CertExpectations): void {
  if (new Date(cert.validTo) < want.now) {
    report.problem(`the ${want.kind} certificate expired on ${cert.validTo}`, [
      `others refuse it: "x509: certificate has expired or is not yet valid"`,
    ], [`issue a new certificate and point ${want.flag} at it`]);
  } else if (new Date(cert.validFrom) > want.now) {
    report.problem(`the ${want.kind} certificate is not valid before ${cert.validFrom}`, [
      "check this machine's clock, or issue a certificate valid from now",
    ], [`issue a certificate valid from now and point ${want.flag} at it`]);
  }
}

/** Whether the CA the others trust signed the certificate. */
function checkSigner(
  report: Report,
  cert: X509Certificate,
  want: CertExpectations,
  readFile: (path: string) => string,
): void {
  const ca = loadCert(want.trustedCAFile, readFile);
  if ("error" in ca) {
    report.problem(`the trusted CA file ${want.trustedCAFile} cannot be read`, [ca.error], [
      "point the trusted CA flag at the PEM certificate of the CA that signed the members",
    ]);
  } else if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) {
    report.line(`not signed by ${want.trustedCAFile}`);
    report.problem(`the ${want.kind} certificate is not signed by ${want.trustedCAFile}`, [
      `issuer: ${cert.issuer.replaceAll("\n", ", ")}`,
      `CA subject: ${ca.cert.subject.replaceAll("\n", ", ")}`,
      `others refuse it: "x509: certificate signed by unknown authority"`,
    ], ["sign the certificate with the CA the members trust, or give that CA's file"]);
  } else {
    report.line(`signed by ${want.trustedCAFile}`);
  }
}

/** The SRV domain, which others verify when they found the member through SRV without a CA file. */
function checkDomainSAN(
  report: Report,
  names: CertNames,
  want: CertExpectations,
  recommended: string,
): void {
  const domainError = verifyHostname(names, want.domain);
  report.line(`SRV domain ${want.domain}: ${domainError ? "missing" : "present"}`);
  if (!domainError || !want.domainRequired) return;
  const who = want.kind === "peer"
    ? "the other members verify this member's certificate against the SRV domain " +
      "(etcd 3.1+ with _etcd-server-ssl records and no --peer-trusted-ca-file)"
    : "clients that discover the cluster through SRV (etcdctl --discovery-srv) verify " +
      "the certificate against the SRV domain";
  report.problem(`the ${want.kind} certificate does not name the SRV domain ${want.domain}`, [
    who,
    `this certificate: ${domainError}`,
    ...(want.kind === "peer"
      ? [`the other members log: rejected connection ... ServerName "${want.domain}"`]
      : []),
  ], [
    `reissue it with ${want.domain} among its DNS SANs, e.g. openssl's`,
    recommended,
    ...(want.kind === "peer"
      ? ["or give every member --peer-trusted-ca-file (then the target names are verified)"]
      : []),
  ]);
}

/** This member's SRV target name: a problem when others verify it, else a warning. */
function checkHostSAN(
  report: Report,
  names: CertNames,
  want: CertExpectations,
  host: string,
  recommended: string,
): void {
  const hostError = verifyHostname(names, host);
  report.line(`SRV target ${host}: ${hostError ? "missing" : "present"}`);
  if (!hostError) return;
  const fix = [`reissue it with ${host} among its DNS SANs, e.g. openssl's`, recommended];
  if (want.hostRequired) {
    report.problem(`the ${want.kind} certificate does not name ${host}`, [
      `with a trusted CA file, others verify the host of this member's URL: ${host}`,
      `this certificate: ${hostError}`,
    ], fix);
  } else {
    report.warn(`the ${want.kind} certificate does not name ${host}`, [
      "the guide puts the member's host name in the SANs along with the SRV domain;",
      "it is verified as soon as a CA file is used or a client dials the name",
    ], fix);
  }
}

/** The address this member connects from, as an IP SAN or a DNS SAN resolving to it. */
async function checkAddressSAN(
  report: Report,
  names: CertNames,
  ip: string,
  hosts: HostLookup,
  recommended: string,
): Promise<void> {
  let how = names.ips.includes(ip) ? `IP SAN ${ip}` : undefined;
  for (const d of names.dnsNames) {
    if (how === undefined && await resolvesTo(hosts, d, ip)) how = `DNS SAN ${d} -> ${ip}`;
  }
  report.line(`this member's address ${ip}: ${how ?? "missing"}`);
  if (how !== undefined) return;
  report.problem(`the peer certificate does not cover this member's address ${ip}`, [
    "members compare the address a peer connects from with its certificate's SANs",
    `(an IP SAN, or a DNS SAN resolving to it); this certificate has ${sanText(names)}`,
  ], [
    `add IP:${ip} (or a name resolving to it), e.g. openssl's`,
    recommended,
  ]);
}
