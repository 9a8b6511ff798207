// JWT tokens from --auth-token jwt with openssl-made keys: every sign method etcd 3.4 signs with
// makes tokens that Web Crypto (an implementation independent of the one signing) verifies with
// the public key alone, carrying etcd's header and claims; tokens expire, and tampered, foreign
// or differently signed tokens are refused.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import {
  AuthError,
  createTokenProvider,
  type JwtTokens,
  type TokenProvider,
} from "../../../src/auth/mod.ts";
import { makeJwtKeys } from "../../helpers/jwt_keys.ts";

const keys = await makeJwtKeys();
const NOW = 1_800_000_000_000;

function provider(option: string, now = () => NOW): TokenProvider {
  return createTokenProvider(option, { simpleTtlMs: 0, now });
}

const jwt = (method: string, priv: string, extra = "") =>
  `jwt,sign-method=${method},priv-key=${keys.path(priv)}${extra}`;

const issue = (p: TokenProvider, username = "alice", revision = 7) =>
  p.issue({ prefix: "", index: 1, username, revision });

const part = (token: string, i: number) =>
  JSON.parse(Buffer.from(token.split(".")[i], "base64url").toString());

function pemDer(file: string): Uint8Array<ArrayBuffer> {
  const text = Deno.readTextFileSync(keys.path(file));
  return new Uint8Array(Buffer.from(text.replace(/-----[^-]+-----|\s/g, ""), "base64"));
}

const HASH: Record<string, string> = { "256": "SHA-256", "384": "SHA-384", "512": "SHA-512" };
const CURVE: Record<string, string> = { "256": "P-256", "384": "P-384", "512": "P-521" };

/** A JWT check of our own over Web Crypto: the signature of header.payload under `alg`. */
async function webCryptoVerifies(token: string, alg: string, pubFile: string) {
  const [h, p, s] = token.split(".");
  const data = new TextEncoder().encode(`${h}.${p}`);
  const sig = new Uint8Array(Buffer.from(s, "base64url"));
  const bits = alg.slice(2);
  const hash = HASH[bits];
  if (alg.startsWith("HS")) {
    const key = await crypto.subtle.importKey(
      "raw",
      Deno.readFileSync(keys.path(pubFile)),
      { name: "HMAC", hash },
      false,
      ["verify"],
    );
    return crypto.subtle.verify("HMAC", key, sig, data);
  }
  const params = alg.startsWith("ES")
    ? { name: "ECDSA", namedCurve: CURVE[bits] }
    : { name: alg.startsWith("PS") ? "RSA-PSS" : "RSASSA-PKCS1-v1_5", hash };
  const key = await crypto.subtle.importKey("spki", pemDer(pubFile), params, false, ["verify"]);
  const algorithm = alg.startsWith("ES")
    ? { name: "ECDSA", hash }
    : alg.startsWith("PS")
    ? { name: "RSA-PSS", saltLength: Number(bits) / 8 }
    : { name: "RSASSA-PKCS1-v1_5" };
  return crypto.subtle.verify(algorithm, key, sig, data);
}

const CASES: [string, string, string][] = [
  ...["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"].map((m) =>
    [m, "rsa.pem", "rsa.pub"] as [string, string, string]
  ),
  ["ES256", "ec256.pem", "ec256.pub"],
  ["ES384", "ec384.pem", "ec384.pub"],
  ["ES512", "ec521.pem", "ec521.pub"],
  // etcd 3.4 takes HS* too: the private key file's bytes are the shared secret.
  ["HS256", "rsa.pem", "rsa.pem"],
  ["HS384", "rsa.pem", "rsa.pem"],
  ["HS512", "rsa.pem", "rsa.pem"],
];

Deno.test("every sign method: etcd's header and claims, verified by Web Crypto", async () => {
  for (const [method, priv, pub] of CASES) {
    const p = provider(jwt(method, priv, ",ttl=90s"));
    const token = issue(p);
    assert.deepEqual(part(token, 0), { alg: method, typ: "JWT" }, method);
    // Go marshals the claims map with sorted keys: the payload's bytes are these.
    assert.equal(
      Buffer.from(token.split(".")[1], "base64url").toString(),
      `{"exp":${(NOW + 90_000) / 1000},"revision":7,"username":"alice"}`,
      method,
    );
    assert.equal(await webCryptoVerifies(token, method, pub), true, method);
    assert.deepEqual(p.info(token), { username: "alice", revision: 7 }, method);
  }
});

Deno.test("tokens expire at exp (whole seconds) and are not refreshed by use", () => {
  let now = NOW;
  const p = provider(jwt("RS256", "rsa.pem", ",ttl=10s"), () => now);
  const token = issue(p);
  now += 9_999;
  assert.equal(p.info(token)?.username, "alice");
  now += 1; // exp itself: golang-jwt wants now before exp
  assert.equal(p.info(token), undefined);
  // No ttl: etcd's five minutes.
  const plain = provider(jwt("ES256", "ec256.pem"));
  assert.equal(part(issue(plain), 1).exp, (NOW + 300_000) / 1000);
});

Deno.test("tampered, foreign, re-signed and malformed tokens are refused", () => {
  const p = provider(jwt("RS256", "rsa.pem"));
  const token = issue(p);
  const [h, , s] = token.split(".");
  const forged = Buffer.from(`{"exp":${NOW / 1000 + 60},"revision":7,"username":"root"}`)
    .toString("base64url");
  assert.equal(p.info(`${h}.${forged}.${s}`), undefined);
  assert.equal(p.info(issue(provider(jwt("RS256", "rsa2.pem")))), undefined);
  // The same key under another method (PS256) is not what this member signs with.
  assert.equal(p.info(issue(provider(jwt("PS256", "rsa.pem")))), undefined);
  for (const bad of ["", "a.b", "a.b.c", `${token}.x`, `${h}.%%%.${s}`]) {
    assert.equal(p.info(bad), undefined, bad);
  }
  // Correctly signed claims of the wrong types name no user.
  const hs = provider(jwt("HS256", "junk.pem"));
  const secret = Deno.readFileSync(keys.path("junk.pem"));
  const signed = (claims: unknown) => {
    const input = [{ alg: "HS256", typ: "JWT" }, claims]
      .map((v) => Buffer.from(JSON.stringify(v)).toString("base64url")).join(".");
    return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
  };
  const exp = NOW / 1000 + 60;
  assert.deepEqual(hs.info(signed({ exp, revision: 3, username: "bob" })), {
    username: "bob",
    revision: 3,
  });
  assert.equal(hs.info(signed({ exp, revision: "3", username: "bob" })), undefined);
  assert.equal(hs.info(signed({ exp, revision: 3 })), undefined);
  assert.equal(hs.info(signed({ exp: String(exp), revision: 3, username: "bob" })), undefined);
  assert.equal(hs.info(signed({ nbf: exp, revision: 3, username: "bob" })), undefined);
});

Deno.test("a public key alone verifies but cannot sign, as etcd's verify-only provider", () => {
  const signer = provider(jwt("ES384", "ec384.pem"));
  const verifier = provider(`jwt,sign-method=ES384,pub-key=${keys.path("ec384.pub")}`);
  assert.deepEqual(verifier.info(issue(signer, "carol", 2)), { username: "carol", revision: 2 });
  assert.throws(() => issue(verifier), (err: unknown) => {
    assert.ok(err instanceof AuthError);
    assert.equal(err.message, "auth: token signing attempted with verify-only key");
    return true;
  });
  // A certificate stands for its public key.
  const cert = provider(`jwt,sign-method=RS256,pub-key=${keys.path("rsa-cert.pem")}`);
  assert.equal(cert.info(issue(provider(jwt("RS256", "rsa.pem"))))?.username, "alice");
});

Deno.test("an EC key of another size than the method's starts but cannot sign", () => {
  for (const [method, priv] of [["ES384", "ec256.pem"], ["ES256", "ec521.pem"]]) {
    const p = provider(jwt(method, priv));
    assert.throws(() => issue(p), /^AuthError: key is invalid$/, method);
  }
});

Deno.test("user names are escaped as Go's encoding/json escapes them", () => {
  const p = provider(jwt("RS256", "rsa1.pem")) as JwtTokens;
  const token = issue(p, "a<b>&c\u2028");
  assert.equal(
    Buffer.from(token.split(".")[1], "base64url").toString(),
    `{"exp":${NOW / 1000 + 300},"revision":7,"username":"a\\u003cb\\u003e\\u0026c\\u2028"}`,
  );
  assert.equal(p.info(token)?.username, "a<b>&c\u2028");
});
