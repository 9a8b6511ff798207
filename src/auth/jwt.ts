// etcd's JWT tokens (auth/jwt.go): signed {"exp","revision","username"} claims that any member
// holding the key verifies without state. They are not refreshed by use and outlive password
// changes; the revision claim makes them stale once users, roles or permissions change.
import { Buffer } from "node:buffer";
import { constants, createHmac, type KeyObject, sign, timingSafeEqual, verify } from "node:crypto";
import { AuthError } from "./errors.ts";
import type { JwtKeys } from "./jwt_keys.ts";
import type { IssuedToken, TokenInfo, TokenProvider } from "./tokens.ts";

const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");
const fromB64url = (s: string) =>
  /^[A-Za-z0-9_-]*$/.test(s) ? Buffer.from(s, "base64url") : undefined;

// Go's encoding/json escapes these in strings; doing the same keeps tokens byte-identical.
const goJson = (v: unknown) =>
  JSON.stringify(v).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );

export class JwtTokens implements TokenProvider {
  readonly #header: string;

  constructor(
    readonly keys: JwtKeys,
    readonly ttlMs: number,
    readonly now: () => number = Date.now,
  ) {
    // golang-jwt marshals its header map with sorted keys.
    this.#header = b64url(goJson({ alg: keys.method.alg, typ: "JWT" }));
  }

  /** A signed token for `username` at auth `revision`, expiring the TTL from now. */
  issue(entry: IssuedToken): string {
    const { signing, method } = this.keys;
    if (!signing) throw new AuthError("verifyOnly");
    const exp = Math.floor((this.now() + this.ttlMs) / 1000);
    // Keys in Go's map order (sorted), as etcd's tokens carry them.
    const claims = { exp, revision: entry.revision, username: entry.username };
    const input = `${this.#header}.${b64url(goJson(claims))}`;
    return `${input}.${b64url(this.#sign(method.family, signing, input))}`;
  }

  #sign(family: string, key: KeyObject | Uint8Array, input: string): Uint8Array {
    const { hash, curveBits } = this.keys.method;
    const data = Buffer.from(input);
    if (key instanceof Uint8Array) return createHmac(hash, key).update(data).digest();
    switch (family) {
      case "rsa":
        return sign(hash, data, key);
      case "rsa-pss":
        return sign(hash, data, {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        });
      default: {
        // golang-jwt signs only with the curve the method names ("key is invalid" otherwise).
        const curve = key.asymmetricKeyDetails?.namedCurve ?? "";
        if (CURVE_BITS[curve] !== curveBits) throw new AuthError("invalidKey");
        return sign(hash, data, { key, dsaEncoding: "ieee-p1363" });
      }
    }
  }

  /** The claims of a token signed with our key and method, unexpired; undefined otherwise. */
  info(token: string): TokenInfo | undefined {
    const parts = token.split(".");
    if (parts.length !== 3) return undefined;
    const [header, payload, signature] = parts.map(fromB64url);
    if (!header || !payload || !signature) return undefined;
    const h = parseObject(header);
    if (h?.alg !== this.keys.method.alg) return undefined;
    if (!this.#verify(`${parts[0]}.${parts[1]}`, signature)) return undefined;
    const claims = parseObject(payload);
    if (!claims || !this.#timely(claims)) return undefined;
    const { username, revision } = claims;
    if (typeof username !== "string" || typeof revision !== "number") return undefined;
    return { username, revision };
  }

  #verify(input: string, signature: Uint8Array): boolean {
    const { verifying, method } = this.keys;
    const data = Buffer.from(input);
    if (verifying instanceof Uint8Array) {
      const mac = createHmac(method.hash, verifying).update(data).digest();
      return mac.length === signature.length && timingSafeEqual(mac, signature);
    }
    try {
      switch (method.family) {
        case "rsa":
          return verify(method.hash, data, verifying, signature);
        case "rsa-pss":
          return verify(method.hash, data, {
            key: verifying,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_AUTO,
          }, signature);
        default:
          return verify(
            method.hash,
            data,
            { key: verifying, dsaEncoding: "ieee-p1363" },
            signature,
          );
      }
    } catch {
      return false; // a signature of the wrong shape for the key
    }
  }

  // golang-jwt's MapClaims.Valid, in whole seconds: exp in the future, iat and nbf not.
  #timely(claims: Record<string, unknown>): boolean {
    const now = Math.floor(this.now() / 1000);
    const { exp, iat, nbf } = claims;
    if (exp !== undefined && !(typeof exp === "number" && now < exp)) return false;
    if (iat !== undefined && !(typeof iat === "number" && now >= iat)) return false;
    return nbf === undefined || (typeof nbf === "number" && now >= nbf);
  }

  // Tokens carry everything: nothing is held, so nothing is dropped.
  invalidateUser(): void {}
  clear(): void {}
}

function parseObject(b: Uint8Array): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(b));
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
