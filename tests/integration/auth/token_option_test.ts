// --auth-token: simple, "" (no tokens), jwt with etcd 3.4's options; everything etcd refuses at
// start-up is refused with etcd's log lines and fatal error (the texts etcd 3.4.23 prints; the
// integration test jwt_test.ts compares a set of them with a running etcd).
import assert from "node:assert/strict";
import {
  authTokenOptionError,
  createTokenProvider,
  JwtTokens,
  NO_TOKENS,
  SimpleTokens,
} from "../../../src/auth/mod.ts";
import type { Logger } from "../../../src/log/mod.ts";
import { makeJwtKeys } from "../../helpers/jwt_keys.ts";

const keys = await makeJwtKeys();
const k = (name: string) => keys.path(name);

function recorder() {
  const lines: string[] = [];
  const log = {
    warn: (r: { pkg: string; text: string }) => lines.push(`W | ${r.pkg}: ${r.text}`),
    error: (r: { pkg: string; text: string }) => lines.push(`E | ${r.pkg}: ${r.text}`),
  } as unknown as Logger;
  return { lines, log };
}

function check(option: string) {
  const r = recorder();
  return { error: authTokenOptionError(option, r.log), lines: r.lines };
}

const failed = (err: string) => `W | etcdserver: failed to create token provider,err is ${err}`;
const INVALID = "auth: invalid auth options";

Deno.test("simple, '' and jwt options start; the provider is the one named", () => {
  for (
    const option of [
      "simple",
      "simple,foo=bar",
      "",
      `jwt,sign-method=RS256,priv-key=${k("rsa.pem")}`,
    ]
  ) {
    assert.deepEqual(check(option), { error: undefined, lines: [] }, option);
  }
  const make = (option: string) => createTokenProvider(option, { simpleTtlMs: 1000 });
  assert.ok(make("simple") instanceof SimpleTokens);
  assert.equal(make(""), NO_TOKENS);
  assert.ok(make(`jwt,sign-method=ES256,priv-key=${k("ec256p8.pem")}`) instanceof JwtTokens);
  // etcd's nop provider: nobody authenticates.
  assert.throws(
    () => NO_TOKENS.issue({ prefix: "", index: 1, username: "root", revision: 1 }),
    /authentication failed/,
  );
});

Deno.test("malformed options and unknown types: etcd's lines, 'invalid auth options'", () => {
  const cases: [string, string][] = [
    ["bogus", "E | auth: unknown token type: bogus"],
    ["jwt", "E | auth: problem loading JWT options: auth: invalid auth signature method"],
    [
      "jwt,sign-method=XX256",
      "E | auth: problem loading JWT options: auth: invalid auth signature method",
    ],
    ["jwt,,sign-method=RS256", "E | auth: invalid token specific option: jwt,,sign-method=RS256"],
    ["jwt,ttl=a=b", "E | auth: invalid token specific option: jwt,ttl=a=b"],
    [
      "jwt,sign-method=RS256,sign-method=RS256",
      "E | auth: invalid token specific option, duplicated parameters (sign-method): " +
      "jwt,sign-method=RS256,sign-method=RS256",
    ],
    [
      "jwt,sign-method=RS256,ttl=abc",
      'E | auth: problem loading JWT options: time: invalid duration "abc"',
    ],
    [
      "jwt,sign-method=RS256,priv-key=/nonexistent/key.pem",
      "E | auth: problem loading JWT options: open /nonexistent/key.pem: no such file or directory",
    ],
  ];
  for (const [option, line] of cases) {
    assert.deepEqual(check(option), { error: INVALID, lines: [line, failed(INVALID)] }, option);
  }
});

Deno.test("key problems stop the member with etcd's (golang-jwt's) error", () => {
  const cases: [string, string][] = [
    ["jwt,sign-method=none", "unsupported signing method: *jwt.signingMethodNone"],
    [
      `jwt,sign-method=EdDSA,priv-key=${k("ed.pem")}`,
      "unsupported signing method: *jwt.SigningMethodEd25519",
    ],
    ["jwt,sign-method=RS256", "auth: missing key data"],
    [`jwt,sign-method=HS256,pub-key=${k("rsa.pub")}`, "auth: missing key data"],
    [
      `jwt,sign-method=RS256,priv-key=${k("junk.pem")}`,
      "invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key",
    ],
    [
      `jwt,sign-method=ES512,pub-key=${k("junk.pem")}`,
      "invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key",
    ],
    [
      `jwt,sign-method=RS256,priv-key=${k("ec256.pem")}`,
      "x509: failed to parse private key (use ParseECPrivateKey instead for this key format)",
    ],
    [`jwt,sign-method=PS384,priv-key=${k("ec256p8.pem")}`, "key is not a valid RSA private key"],
    [`jwt,sign-method=ES256,priv-key=${k("rsa.pem")}`, "key is not a valid ECDSA private key"],
    [`jwt,sign-method=ES256,pub-key=${k("rsa.pub")}`, "key is not a valid ECDSA public key"],
    [`jwt,sign-method=RS256,pub-key=${k("ec256.pub")}`, "key is not a valid RSA public key"],
    [
      `jwt,sign-method=ES256,priv-key=${k("ec256.pem")},pub-key=${k("ec384.pub")}`,
      "auth: public and private keys don't match",
    ],
  ];
  for (const [option, err] of cases) {
    assert.deepEqual(check(option), { error: err, lines: [failed(err)] }, option);
  }
});

Deno.test("what etcd lets pass: unknown JWT options (warned), RSA keys of another pair", () => {
  assert.deepEqual(check(`jwt,sign-method=RS512,priv-key=${k("rsa1.pem")},foo=bar,x=`), {
    error: undefined,
    lines: ["W | auth: unknown JWT options: [foo x]"],
  });
  // etcd 3.4 compares RSA keys by exponent AND modulus: a different pair with the usual
  // exponent passes (and signs with the private key).
  assert.deepEqual(
    check(`jwt,sign-method=RS256,priv-key=${k("rsa.pem")},pub-key=${k("rsa2.pub")}`),
    { error: undefined, lines: [] },
  );
  assert.deepEqual(check(`jwt,sign-method=ES384,priv-key=${k("ec256.pem")},ttl=`), {
    error: undefined,
    lines: [],
  });
});
