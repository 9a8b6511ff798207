// The OS trust store as Go's crypto/x509 finds it on Linux. Deno trusts its own bundled roots
// unless DENO_TLS_CA_STORE=system (which covers fetch and Deno.connectTls, and honours
// SSL_CERT_FILE/SSL_CERT_DIR); node:tls clients given no `ca` use the bundled roots, so code
// that dials with node:tls passes systemTrust() as `ca` explicitly.
import { pemBlocks } from "./files.ts";

/** Go's list, first readable file wins. */
const CERT_FILES = [
  "/etc/ssl/certs/ca-certificates.crt", // Debian/Ubuntu/Gentoo
  "/etc/pki/tls/certs/ca-bundle.crt", // Fedora/RHEL 6
  "/etc/ssl/ca-bundle.pem", // OpenSUSE
  "/etc/pki/tls/cacert.pem", // OpenELEC
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS/RHEL 7
  "/etc/ssl/cert.pem", // Alpine
];
const CERT_DIRS = ["/etc/ssl/certs", "/etc/pki/tls/certs"];

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

function readCerts(path: string): string[] | undefined {
  try {
    const text = new TextDecoder().decode(Deno.readFileSync(path));
    return pemBlocks(text).filter((b) => b.type === "CERTIFICATE").map((b) => b.pem);
  } catch {
    return undefined;
  }
}

function readDir(dir: string): string[] {
  const out: string[] = [];
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory) continue;
      out.push(...(readCerts(`${dir}/${e.name}`) ?? []));
    }
  } catch {
    // a missing directory adds nothing, as in Go
  }
  return out;
}

let cached: { key: string; certs: string[] } | undefined;

/**
 * PEM certificates of the system trust store: SSL_CERT_FILE (else the first of Go's bundle
 * files that exists) plus the files in SSL_CERT_DIR's directories. Go also scans its default
 * directories; they repeat the bundle on every distribution we run on, so they are read only
 * when no bundle file exists.
 */
export function systemTrust(): string[] {
  const file = env("SSL_CERT_FILE");
  const dirs = env("SSL_CERT_DIR");
  const key = `${file ?? ""}\0${dirs ?? ""}`;
  if (cached?.key === key) return cached.certs;
  const certs: string[] = [];
  let found = false;
  for (const f of file !== undefined && file !== "" ? [file] : CERT_FILES) {
    const got = readCerts(f);
    if (got === undefined) continue;
    certs.push(...got);
    found = true;
    break;
  }
  const dirList = dirs !== undefined && dirs !== "" ? dirs.split(":") : found ? [] : CERT_DIRS;
  for (const d of dirList) certs.push(...readDir(d));
  const unique = [...new Set(certs)];
  cached = { key, certs: unique };
  return unique;
}

/**
 * Makes fetch and node:https trust the OS store (honouring SSL_CERT_FILE / SSL_CERT_DIR) as
 * Go does, unless DENO_TLS_CA_STORE was chosen by the user. Deno reads the variable when it
 * first builds its root store, so call this before the process makes any TLS connection.
 */
export function useSystemTrustStore(): void {
  try {
    if (!Deno.env.get("DENO_TLS_CA_STORE")) Deno.env.set("DENO_TLS_CA_STORE", "system");
  } catch {
    // without env permission Deno's bundled roots stay in use
  }
}
