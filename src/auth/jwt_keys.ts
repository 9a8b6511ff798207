// The keys of --auth-token jwt: PEM files read as etcd 3.4 reads them (golang-jwt's parsers over
// Go's x509), with their error texts, so a bad key stops the member with etcd's words.
import { Buffer } from "node:buffer";
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";

export type JwtFamily = "hmac" | "rsa" | "rsa-pss" | "ecdsa";

export interface JwtMethod {
  alg: string;
  family: JwtFamily;
  hash: "sha256" | "sha384" | "sha512";
  /** ECDSA: the curve size the method signs with (golang-jwt refuses any other). */
  curveBits?: number;
}

const method = (alg: string, family: JwtFamily, bits: 256 | 384 | 512): JwtMethod => ({
  alg,
  family,
  hash: `sha${bits}`,
  curveBits: family === "ecdsa" ? (bits === 512 ? 521 : bits) : undefined,
});

/** The sign methods etcd 3.4 signs with; golang-jwt knows two more that etcd refuses. */
export const JWT_METHODS: Record<string, JwtMethod> = Object.fromEntries(
  (["HS", "RS", "PS", "ES"] as const).flatMap((p) =>
    ([256, 384, 512] as const).map((bits) => {
      const family = ({ HS: "hmac", RS: "rsa", PS: "rsa-pss", ES: "ecdsa" } as const)[p];
      return [`${p}${bits}`, method(`${p}${bits}`, family, bits)];
    })
  ),
);
/** Registered in golang-jwt, so etcd gets past the option parsing and then refuses them. */
export const UNSUPPORTED_METHODS: Record<string, string> = {
  none: "*jwt.signingMethodNone",
  EdDSA: "*jwt.SigningMethodEd25519",
};

export const ERR_MISSING_KEY = "auth: missing key data";
const ERR_KEY_MISMATCH = "auth: public and private keys don't match";
const ERR_NOT_PEM = "invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key";

/** A key file etcd would not take; the message is etcd's (Go's x509 texts approximated). */
export class JwtKeyError extends Error {
  override name = "JwtKeyError";
}

export interface JwtKeys {
  method: JwtMethod;
  /** Absent for a public key alone: tokens then verify but are never issued. */
  signing?: KeyObject | Uint8Array;
  verifying: KeyObject | Uint8Array;
}

/** Go's pem.Decode: the first BEGIN/END block's DER bytes, headers skipped. */
function pemBlock(pem: Uint8Array): Buffer | undefined {
  const text = new TextDecoder("latin1").decode(pem);
  const m = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  const body = m[2].split(/\r?\n/).filter((l) => !l.includes(":")).join("");
  if (!/^[A-Za-z0-9+/=\s]*$/.test(body)) return undefined;
  return Buffer.from(body, "base64");
}

function tryPrivate(der: Buffer, type: "pkcs1" | "pkcs8" | "sec1"): KeyObject | undefined {
  try {
    return createPrivateKey({ key: der, format: "der", type });
  } catch {
    return undefined;
  }
}

function tryPublic(der: Buffer): KeyObject | undefined {
  try {
    return createPublicKey({ key: der, format: "der", type: "spki" });
  } catch {
    // Go also takes a certificate's public key.
    try {
      return new X509Certificate(der).publicKey;
    } catch {
      return undefined;
    }
  }
}

// golang-jwt's ParseRSAPrivateKeyFromPEM (PKCS#1, then PKCS#8) and ParseECPrivateKeyFromPEM
// (SEC 1, then PKCS#8); Go's error names the other parser when the key is of its format.
const PRIVATE_FORMATS = {
  rsa: { first: "pkcs1", other: "sec1", otherParser: "ParseECPrivateKey", name: "RSA" },
  ec: { first: "sec1", other: "pkcs1", otherParser: "ParsePKCS1PrivateKey", name: "ECDSA" },
} as const;

function privateKey(pem: Uint8Array, type: "rsa" | "ec"): KeyObject {
  const f = PRIVATE_FORMATS[type];
  const der = pemBlock(pem);
  if (!der) throw new JwtKeyError(ERR_NOT_PEM);
  const key = tryPrivate(der, f.first) ?? tryPrivate(der, "pkcs8");
  if (!key) {
    throw new JwtKeyError(
      tryPrivate(der, f.other)
        ? `x509: failed to parse private key (use ${f.otherParser} instead for this key format)`
        : "x509: failed to parse private key",
    );
  }
  if (key.asymmetricKeyType !== type) {
    throw new JwtKeyError(`key is not a valid ${f.name} private key`);
  }
  return key;
}

function publicKey(pem: Uint8Array, type: "rsa" | "ec"): KeyObject {
  const der = pemBlock(pem);
  if (!der) throw new JwtKeyError(ERR_NOT_PEM);
  const key = tryPublic(der);
  if (!key) throw new JwtKeyError("x509: failed to parse public key");
  if (key.asymmetricKeyType !== type) {
    throw new JwtKeyError(`key is not a valid ${type === "rsa" ? "RSA" : "ECDSA"} public key`);
  }
  return key;
}

// etcd 3.4 calls keys mismatched only when every compared part differs (its check joins them
// with &&): RSA keys with the usual exponent always pass, EC keys only fail across curves.
function mismatched(priv: KeyObject, pub: KeyObject): boolean {
  const a = createPublicKey(priv).export({ format: "jwk" });
  const b = pub.export({ format: "jwk" });
  if (a.kty === "RSA") return a.e !== b.e && a.n !== b.n;
  return a.crv !== b.crv && a.x !== b.x && a.y !== b.y;
}

/** The keys for `method` from the files' contents; throws etcd's error for bad ones. */
export function loadJwtKeys(m: JwtMethod, priv?: Uint8Array, pub?: Uint8Array): JwtKeys {
  if (m.family === "hmac") {
    // The private key file's bytes are the shared secret.
    if (!priv?.length) throw new JwtKeyError(ERR_MISSING_KEY);
    return { method: m, signing: priv, verifying: priv };
  }
  const type = m.family === "ecdsa" ? "ec" : "rsa";
  const signing = priv?.length ? privateKey(priv, type) : undefined;
  const verifying = pub?.length ? publicKey(pub, type) : undefined;
  if (!signing) {
    if (!verifying) throw new JwtKeyError(ERR_MISSING_KEY);
    return { method: m, verifying };
  }
  if (verifying && mismatched(signing, verifying)) throw new JwtKeyError(ERR_KEY_MISMATCH);
  return { method: m, signing, verifying: createPublicKey(signing) };
}
