// --auth-token: simple, jwt (served with simple tokens), anything else refused as etcd does.
import assert from "node:assert/strict";
import { authTokenOptionError } from "../../src/auth/mod.ts";
import type { Logger } from "../../src/log/mod.ts";

function recorder() {
  const lines: string[] = [];
  const log = {
    warn: (r: { pkg: string; text: string }) => lines.push(`W | ${r.pkg}: ${r.text}`),
    error: (r: { pkg: string; text: string }) => lines.push(`E | ${r.pkg}: ${r.text}`),
  } as unknown as Logger;
  return { lines, log };
}

Deno.test("simple and jwt token options start; an unknown type fails with etcd's lines", () => {
  const r = recorder();
  assert.equal(authTokenOptionError("simple", r.log), undefined);
  assert.deepEqual(r.lines, []);
  assert.equal(
    authTokenOptionError("jwt,pub-key=a,priv-key=b,sign-method=RS256", r.log),
    undefined,
  );
  assert.equal(r.lines.length, 1);
  const bad = recorder();
  assert.equal(authTokenOptionError("bogus", bad.log), "auth: invalid auth options");
  assert.deepEqual(bad.lines, [
    "E | auth: unknown token type: bogus",
    "W | etcdserver: failed to create token provider,err is auth: invalid auth options",
  ]);
});
