// The discovery service's flags (`etcd-ts discovery-service`); the service itself is tested
// against real etcd members in tests/integration/discovery/service_test.ts.
import assert from "node:assert/strict";
import { parseServiceFlags } from "../../src/discovery/mod.ts";

Deno.test("service flags", () => {
  const o = parseServiceFlags(["--listen-addr", "127.0.0.5:9000", "-token-ttl=60"]);
  assert.ok(typeof o !== "string");
  assert.equal(o.advertiseURL, "http://127.0.0.5:9000");
  assert.equal(o.tokenTTLSeconds, 60);
  assert.equal(parseServiceFlags(["--bogus=1"]), "flag provided but not defined: -bogus");
});
