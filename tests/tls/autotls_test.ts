// resolveAutoTLS: which flags auto-TLS replaces for each port; the certificate selfCert makes is
// inspected with openssl in tests/integration/tls/autotls_test.ts.
import assert from "node:assert/strict";
import { loadClientTLS, loadServerTLS, resolveAutoTLS } from "../../src/tls/mod.ts";
import { testLog } from "../helpers/log.ts";
import { tempDir } from "../helpers/tmp.ts";
import { tlsConfig } from "../helpers/certs.ts";

const base = tlsConfig({
  clientCertAuth: true,
  trustedCAFile: "ca.pem",
  autoTLS: true,
  crlFile: "crl.pem",
  allowedCN: "x",
});

Deno.test("resolveAutoTLS: replaces the port's TLS flags, or is ignored when certs are given", async () => {
  await using tmp = tempDir();
  const dataDir = tmp.path;
  const { log, lines } = testLog();
  const params = { dataDir, hosts: ["127.0.5.52:2380"], validityYears: 1, log };
  const peer = await resolveAutoTLS(base, { ...params, port: "peer" });
  assert.deepEqual(peer, {
    ...base,
    certFile: `${dataDir}/fixtures/peer/cert.pem`,
    keyFile: `${dataDir}/fixtures/peer/key.pem`,
    clientCertAuth: false,
    trustedCAFile: "",
    crlFile: "",
    allowedCN: "",
  });
  const server = await loadServerTLS(peer, { port: "peer" });
  assert.equal(server.requestCert, undefined, "auto-TLS peers do not ask for certificates");
  assert.equal((await loadClientTLS(peer)).rejectUnauthorized, false);

  const given = { ...base, certFile: "s.pem", keyFile: "s.key" };
  const kept = await resolveAutoTLS(given, { ...params, port: "client" });
  assert.deepEqual(kept, { ...given, autoTLS: false });
  assert.match(lines.at(-1)!, / W \| embed: ignoring client auto TLS since certs given$/);
  const off = { ...base, autoTLS: false };
  assert.equal(await resolveAutoTLS(off, { ...params, port: "client" }), off);
});
