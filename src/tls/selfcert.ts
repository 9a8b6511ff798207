// Auto-TLS: the self-signed key pair etcd generates for --auto-tls / --peer-auto-tls
// (spec/tls.md §4), made with Web Crypto keys and @peculiar/x509.
import net from "node:net";
import { Buffer } from "node:buffer";
import type { Logger } from "../log/mod.ts";
import type { TLSConfig } from "../config/mod.ts";
import type * as x509 from "@peculiar/x509";
import { loadX509 } from "./x509.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** host[:port] or a bare host -> the SAN host (IPv6 brackets removed). */
function sanHost(hostPort: string): string {
  const bracketed = hostPort.match(/^\[([^\]]*)\](?::\d*)?$/);
  if (bracketed) return bracketed[1];
  const i = hostPort.lastIndexOf(":");
  return i >= 0 && hostPort.indexOf(":") === i ? hostPort.slice(0, i) : hostPort;
}

function pem(type: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}

/** DER tag-length-value. */
function tlv(tag: number, body: Uint8Array): Uint8Array {
  const len = body.length < 0x80
    ? [body.length]
    : body.length < 0x100
    ? [0x81, body.length]
    : [0x82, body.length >> 8, body.length & 0xff];
  return new Uint8Array([tag, ...len, ...body]);
}

const concat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));
const b64url = (s: string) => new Uint8Array(Buffer.from(s, "base64url"));
/** OID 1.3.132.0.35 (secp521r1). */
const SECP521R1 = new Uint8Array([0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23]);

/**
 * SEC1 ECPrivateKey (`EC PRIVATE KEY`, what Go's MarshalECPrivateKey writes): version 1, the
 * private scalar, the curve OID and the public point. Web Crypto only exports PKCS#8 or JWK.
 */
async function sec1PrivateKey(key: CryptoKey): Promise<Uint8Array> {
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const point = concat(new Uint8Array([0x04]), b64url(jwk.x!), b64url(jwk.y!));
  return tlv(
    0x30,
    concat(
      new Uint8Array([0x02, 0x01, 0x01]),
      tlv(0x04, b64url(jwk.d!)),
      tlv(0xa0, SECP521R1),
      tlv(0xa1, tlv(0x03, concat(new Uint8Array([0]), point))),
    ),
  );
}

/**
 * etcd's SelfCert: reuses `<dir>/cert.pem` and `<dir>/key.pem` when both exist (even expired,
 * even for other hosts), else creates them: ECDSA P-521, ecdsa-with-SHA512, random 128-bit
 * serial, subject O=etcd, valid from now for `validityYears` x 365 days, server-auth only,
 * hosts' IPs as IP SANs and names as DNS SANs. The directory is created 0700, key.pem 0600.
 */
export async function selfCert(
  dir: string,
  hosts: string[],
  validityYears: number,
  log?: Logger,
): Promise<{ certFile: string; keyFile: string; created: boolean }> {
  if (!(validityYears > 0)) {
    throw new Error("selfSignedCertValidity is invalid,it should be greater than 0");
  }
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = `${dir}/cert.pem`;
  const keyFile = `${dir}/key.pem`;
  if (exists(certFile) && exists(keyFile)) return { certFile, keyFile, created: false };

  const x509 = await loadX509();
  const alg = { name: "ECDSA", namedCurve: "P-521", hash: "SHA-512" };
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  // Go writes DNS names before IP addresses.
  const sans = hosts.map(sanHost);
  const names: x509.JsonGeneralNames = [
    ...sans.filter((h) => !net.isIP(h)).map((h) => ({ type: "dns" as const, value: h })),
    ...sans.filter((h) => net.isIP(h)).map((h) => ({ type: "ip" as const, value: h })),
  ];
  const serial = new Uint8Array(16);
  crypto.getRandomValues(serial);
  serial[0] &= 0x7f; // a positive INTEGER without a padding byte
  const notBefore = new Date();
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.BasicConstraintsExtension(false, undefined, true),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(serial).toString("hex"),
    name: "O=etcd",
    notBefore,
    notAfter: new Date(notBefore.getTime() + validityYears * 365 * DAY_MS),
    signingAlgorithm: alg,
    keys,
    extensions,
  });
  Deno.writeTextFileSync(certFile, cert.toString("pem").trimEnd() + "\n");
  log?.info({
    pkg: "pkg/transport",
    text: `created cert file ${certFile}`,
    msg: "created cert file",
    fields: { path: certFile },
  });
  const key = await sec1PrivateKey(keys.privateKey);
  Deno.writeTextFileSync(keyFile, pem("EC PRIVATE KEY", key.slice().buffer), { mode: 0o600 });
  Deno.chmodSync(keyFile, 0o600);
  log?.info({
    pkg: "pkg/transport",
    text: `created key file ${keyFile}`,
    msg: "created key file",
    fields: { path: keyFile },
  });
  return { certFile, keyFile, created: true };
}

export interface AutoTLSParams {
  port: "client" | "peer";
  dataDir: string;
  /** The listen URLs' hosts (host:port), as etcd takes them from --listen-*-urls. */
  hosts: string[];
  validityYears: number;
  log: Logger;
}

/**
 * etcd's ClientSelfCert / PeerSelfCert: with auto-TLS and no certificate files, the port's TLS
 * settings become the self-signed pair alone (client-cert-auth, CA, CRL and allowed names are
 * dropped); with certificate files the flag is ignored with a warning. The result's `autoTLS`
 * is true only when the self-signed pair is in use (clients then skip verification).
 */
export async function resolveAutoTLS(cfg: TLSConfig, p: AutoTLSParams): Promise<TLSConfig> {
  if (!cfg.autoTLS) return cfg;
  if (cfg.certFile !== "" || cfg.keyFile !== "") {
    const text = `ignoring ${p.port} auto TLS since certs given`;
    p.log.warn({ pkg: "embed", text, msg: text });
    return { ...cfg, autoTLS: false };
  }
  const { certFile, keyFile } = await selfCert(
    `${p.dataDir}/fixtures/${p.port}`,
    p.hosts,
    p.validityYears,
    p.log,
  );
  return {
    certFile,
    keyFile,
    clientCertFile: "",
    clientKeyFile: "",
    clientCertAuth: false,
    trustedCAFile: "",
    autoTLS: true,
    crlFile: "",
    allowedCN: "",
    allowedHostname: "",
  };
}
