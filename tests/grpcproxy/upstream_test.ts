// How the proxy reads --endpoints: the scheme decides TLS, a bare host:port follows the proxy's
// TLS settings for the cluster, anything else is refused before start.
import assert from "node:assert/strict";
import { parseEndpoint } from "../../src/grpcproxy/mod.ts";

Deno.test("endpoints: schemes, bare addresses, IPv6, refusals", () => {
  const read = (text: string, tls: boolean) => {
    const { host, port, secure } = parseEndpoint(text, tls);
    return { host, port, secure };
  };
  assert.deepEqual(read("http://10.0.1.10:2379", true), {
    host: "10.0.1.10",
    port: 2379,
    secure: false,
  });
  assert.deepEqual(read("https://infra0.example.com:2379/", false), {
    host: "infra0.example.com",
    port: 2379,
    secure: true,
  });
  assert.deepEqual(read("10.0.1.10:2379", false), { host: "10.0.1.10", port: 2379, secure: false });
  assert.deepEqual(read("10.0.1.10:2379", true), { host: "10.0.1.10", port: 2379, secure: true });
  assert.deepEqual(read("[::1]:2379", false), { host: "::1", port: 2379, secure: false });
  for (const bad of ["10.0.1.10", "unix://x:1", "http://h:99999", "h:p"]) {
    assert.throws(() => parseEndpoint(bad, false), /invalid endpoint/, bad);
  }
});
