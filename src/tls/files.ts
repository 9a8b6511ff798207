// Reading certificate, key, CA and CRL files the way etcd's Go code does, so a failure reads
// as etcd's (`open nope.pem: no such file or directory`, `tls: private key does not match
// public key`).
import crypto from "node:crypto";
import { Buffer } from "node:buffer";

/** Go's os.ReadFile error texts for the failures an operator can cause. */
export function readFileGo(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(`open ${path}: no such file or directory`);
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      throw new Error(`open ${path}: permission denied`);
    }
    if (err instanceof Deno.errors.IsADirectory || isDirectory(path)) {
      throw new Error(`read ${path}: is a directory`);
    }
    throw new Error(`open ${path}: ${(err as Error).message}`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

export interface PemBlock {
  type: string;
  /** The whole armoured block, BEGIN to END line. */
  pem: string;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Every PEM block in the text, in order (Go's pem.Decode in a loop; junk between is skipped). */
export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2].split(/\r?\n/).filter((l) => !l.includes(":")).join("");
    out.push({ type: m[1], pem: m[0] + "\n", der: new Uint8Array(Buffer.from(body, "base64")) });
  }
  return out;
}

export interface KeyPair {
  /** Certificate chain PEM (leaf first), as given. */
  cert: string;
  /** The private key PEM block (PKCS#8, PKCS#1 or SEC1). */
  key: string;
  leaf: crypto.X509Certificate;
}

/**
 * Go's tls.LoadX509KeyPair: reads both files, requires a certificate and a private key block,
 * and checks that the key belongs to the leaf certificate.
 */
export function loadKeyPair(certFile: string, keyFile: string): KeyPair {
  const certText = new TextDecoder().decode(readFileGo(certFile));
  const keyText = new TextDecoder().decode(readFileGo(keyFile));
  const certs = pemBlocks(certText).filter((b) => b.type === "CERTIFICATE");
  if (certs.length === 0) {
    throw new Error("tls: failed to find any PEM data in certificate input");
  }
  const keyBlock = pemBlocks(keyText).find((b) => b.type.endsWith("PRIVATE KEY"));
  if (!keyBlock) throw new Error("tls: failed to find any PEM data in key input");
  let leaf: crypto.X509Certificate;
  try {
    leaf = new crypto.X509Certificate(Buffer.from(certs[0].der));
  } catch (err) {
    throw new Error(`x509: malformed certificate (${(err as Error).message})`);
  }
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(keyBlock.pem);
  } catch {
    throw new Error("tls: failed to parse private key");
  }
  const certKey = leaf.publicKey;
  if (certKey.asymmetricKeyType !== privateKey.asymmetricKeyType) {
    throw new Error("tls: private key type does not match public key type");
  }
  const spki = (k: crypto.KeyObject) =>
    Buffer.from(k.export({ type: "spki", format: "der" })).toString("hex");
  if (spki(crypto.createPublicKey(privateKey)) !== spki(certKey)) {
    throw new Error("tls: private key does not match public key");
  }
  return { cert: certs.map((c) => c.pem).join(""), key: keyBlock.pem, leaf };
}

/** A CA bundle file: every CERTIFICATE block (Go's AppendCertsFromPEM fails on none). */
export function loadCABundle(path: string): string[] {
  const text = new TextDecoder().decode(readFileGo(path));
  const certs = pemBlocks(text).filter((b) => b.type === "CERTIFICATE").map((b) => b.pem);
  if (certs.length === 0) throw new Error(`failed to append certificates from ${path}`);
  return certs;
}

/** Go's RFC 3339 form for times in x509 errors (seconds, UTC). */
export function goTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Go's x509 validity error for a certificate outside its dates at `now`, or undefined.
 */
export function validityError(cert: crypto.X509Certificate, now: Date): string | undefined {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  const prefix = "x509: certificate has expired or is not yet valid: current time";
  if (now < from) return `${prefix} ${goTime(now)} is before ${goTime(from)}`;
  if (now > to) return `${prefix} ${goTime(now)} is after ${goTime(to)}`;
  return undefined;
}
