// Certificate names as Go's crypto/x509 sees them: common name, SANs, VerifyHostname.
import crypto from "node:crypto";
import net from "node:net";

export interface CertNames {
  commonName: string;
  ips: string[];
  dnsNames: string[];
}

/** Canonical text of an IP (IPv6 expanded then compressed by node's URL parser). */
export function canonicalIP(ip: string): string {
  const bare = ip.replace(/^\[(.*)\]$/, "$1");
  const v = net.isIP(bare);
  if (v === 4) return bare;
  if (v === 6) {
    const mapped = bare.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
    if (mapped) return mapped[1]; // Go compares IPv4-mapped addresses as IPv4
    return new URL(`http://[${bare}]/`).hostname.replace(/^\[(.*)\]$/, "$1");
  }
  return bare;
}

/** Splits node's `subjectAltName` text ("DNS:a, IP Address:1.2.3.4"), honouring quotes. */
function sanEntries(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === "," && text[i + 1] === " ") {
      out.push(cur);
      cur = "";
      i++;
    } else cur += c;
  }
  if (cur !== "") out.push(cur);
  return out;
}

export function certNames(cert: crypto.X509Certificate): CertNames {
  const cns = cert.subject.split("\n").filter((l) => l.startsWith("CN=")).map((l) => l.slice(3));
  const ips: string[] = [];
  const dnsNames: string[] = [];
  for (const e of sanEntries(cert.subjectAltName ?? "")) {
    if (e.startsWith("IP Address:")) ips.push(canonicalIP(e.slice("IP Address:".length)));
    else if (e.startsWith("DNS:")) dnsNames.push(e.slice(4));
  }
  // Go keeps the last CN attribute when a subject repeats it.
  return { commonName: cns.at(-1) ?? "", ips, dnsNames };
}

/** Go's matchHostnames: case-insensitive, a `*` only as the whole leftmost label. */
function matchHostname(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, "");
  const h = host.toLowerCase().replace(/\.$/, "");
  if (p === "" || h === "") return false;
  const pl = p.split(".");
  const hl = h.split(".");
  if (pl.length !== hl.length) return false;
  return pl.every((label, i) => (i === 0 && label === "*") || label === hl[i]);
}

/** Go's Certificate.VerifyHostname error text, or undefined when the name matches. */
export function verifyHostname(names: CertNames, host: string): string | undefined {
  const h = host.replace(/^\[(.*)\]$/, "$1");
  if (net.isIP(h)) {
    const want = canonicalIP(h);
    if (names.ips.includes(want)) return undefined;
    if (names.ips.length === 0) {
      return `x509: cannot validate certificate for ${h} because it doesn't contain any IP SANs`;
    }
    return `x509: certificate is valid for ${names.ips.join(", ")}, not ${h}`;
  }
  if (names.dnsNames.some((d) => matchHostname(d, h))) return undefined;
  if (names.dnsNames.length === 0) {
    return `x509: certificate is not valid for any names, but wanted to match ${h}`;
  }
  return `x509: certificate is valid for ${names.dnsNames.join(", ")}, not ${h}`;
}

/** Go's %q of a string slice: `["a" "b"]`. */
export function quoteList(items: string[]): string {
  return `[${items.map((s) => JSON.stringify(s)).join(" ")}]`;
}
