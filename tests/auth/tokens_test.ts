// Simple tokens: random prefix, a TTL restarted by each use, dropped per user or all at once.
import assert from "node:assert/strict";
import { newTokenPrefix, SimpleTokens } from "../../src/auth/mod.ts";

Deno.test("token prefixes are 16 letters and differ", () => {
  const a = newTokenPrefix();
  assert.match(a, /^[a-zA-Z]{16}$/);
  assert.notEqual(a, newTokenPrefix());
});

Deno.test("a token expires its TTL after its last use", () => {
  let now = 1000;
  const tokens = new SimpleTokens(300_000, () => now);
  tokens.assign("abc.5", "alice");
  now += 299_000;
  assert.equal(tokens.username("abc.5"), "alice");
  now += 299_000; // 598 s after assignment, 299 s after the last use
  assert.equal(tokens.username("abc.5"), "alice");
  now += 300_000;
  assert.equal(tokens.username("abc.5"), undefined);
  assert.equal(tokens.size, 0);
});

Deno.test("tokens are dropped per user and all at once", () => {
  const tokens = new SimpleTokens(1000);
  tokens.assign("a.1", "alice");
  tokens.assign("a.2", "alice");
  tokens.assign("b.3", "bob");
  tokens.invalidateUser("alice");
  assert.equal(tokens.username("a.1"), undefined);
  assert.equal(tokens.username("b.3"), "bob");
  tokens.clear();
  assert.equal(tokens.username("b.3"), undefined);
});

Deno.test("expired tokens are swept when new ones are assigned", () => {
  let now = 0;
  const tokens = new SimpleTokens(1000, () => now);
  for (let i = 0; i < 10; i++) tokens.assign(`t.${i}`, "u");
  now = 60_000;
  tokens.assign("fresh.11", "u");
  assert.equal(tokens.size, 1);
});
