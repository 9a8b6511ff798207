import assert from "node:assert/strict";
import crypto from "node:crypto";
import type { TLSConfig } from "../../../src/config/mod.ts";
import {
  checkCertSAN,
  checkCRL,
  loadClientTLS,
  loadServerTLS,
  opensslCiphers,
  type Resolver,
  SERVER_POLICY,
  systemTrust,
  verifyHostname,
} from "../../../src/tls/mod.ts";
import { certNames } from "../../../src/tls/names.ts";
import { makeTLSCerts, tlsConfig } from "../../helpers/certs.ts";
import { testLog } from "../../helpers/log.ts";

const dir = await makeTLSCerts();
const f = (name: string) => `${dir}/${name}`;
const read = (name: string) => Deno.readTextFileSync(f(name));
const x509 = (name: string) => new crypto.X509Certificate(read(name));

/** The ECDSA server pair, and `over`. */
function ecConfig(over: Partial<TLSConfig> = {}): TLSConfig {
  return tlsConfig({ certFile: f("server-ec.pem"), keyFile: f("server-ec1.key"), ...over });
}

Deno.test("loadServerTLS: RSA PKCS#1/PKCS#8 and ECDSA SEC1/PKCS#8 keys, chains", async () => {
  for (
    const [cert, key] of [
      ["server-rsa.pem", "server-rsa1.key"],
      ["server-rsa.pem", "server-rsa8.key"],
      ["server-ec.pem", "server-ec1.key"],
      ["server-ec.pem", "server-ec8.key"],
      ["chain.pem", "chain-leaf.key"],
    ]
  ) {
    const o = await loadServerTLS(ecConfig({ certFile: f(cert), keyFile: f(key) }), {
      port: "client",
    });
    assert.equal(o.minVersion, "TLSv1.2");
    assert.equal(o.requestCert, undefined, "no client certificates without CA or auth");
    const blocks = String(o.cert).match(/BEGIN CERTIFICATE/g)!.length;
    assert.equal(blocks, cert === "chain.pem" ? 2 : 1);
  }
});

Deno.test("loadServerTLS: etcd's errors for files and key pairs", async () => {
  const load = (over: Partial<TLSConfig>) => loadServerTLS(ecConfig(over), { port: "client" });
  await assert.rejects(load({ certFile: "nope.pem" }), {
    message: "open nope.pem: no such file or directory",
  });
  await assert.rejects(load({ keyFile: "nope.key" }), {
    message: "open nope.key: no such file or directory",
  });
  await assert.rejects(load({ trustedCAFile: "ca-nope.pem" }), {
    message: "open ca-nope.pem: no such file or directory",
  });
  await assert.rejects(load({ keyFile: f("client.key") }), {
    message: "tls: private key does not match public key",
  });
  await assert.rejects(load({ keyFile: f("server-rsa1.key") }), {
    message: "tls: private key type does not match public key type",
  });
  await assert.rejects(load({ certFile: f("server-ec1.key") }), {
    message: "tls: failed to find any PEM data in certificate input",
  });
  await assert.rejects(load({ keyFile: f("server-ec.pem") }), {
    message: "tls: failed to find any PEM data in key input",
  });
  await assert.rejects(load({ certFile: dir }), { message: `read ${dir}: is a directory` });
});

Deno.test("loadServerTLS: a CA file alone makes client certificates mandatory", async () => {
  const cases: [Partial<TLSConfig>, boolean][] = [
    [{}, false],
    [{ clientCertAuth: true }, true],
    [{ trustedCAFile: f("ca.pem") }, true],
    [{ trustedCAFile: f("ca.pem"), clientCertAuth: true }, true],
  ];
  for (const [over, required] of cases) {
    const o = await loadServerTLS(ecConfig(over), { port: "client" });
    assert.equal(o.requestCert === true && o.rejectUnauthorized === true, required);
    assert.equal(o[SERVER_POLICY].policy.requireClientCert, required);
    if (over.trustedCAFile) assert.deepEqual(o.ca, [read("ca.pem")]);
    else if (required) assert.ok(Array.isArray(o.ca), "system roots without a CA file");
  }
});

Deno.test("loadServerTLS: policy (allowed CN lists, hostname, CRL, SAN check on peers)", async () => {
  const peer = await loadServerTLS(
    ecConfig({ trustedCAFile: f("ca.pem"), allowedCN: "a, b", crlFile: f("crl.pem") }),
    { port: "peer" },
  );
  assert.deepEqual(peer[SERVER_POLICY].policy, {
    requireClientCert: true,
    allowedCN: ["a", "b"],
    allowedHostname: [],
    crlFile: f("crl.pem"),
    checkSAN: true,
  });
  const skip = await loadServerTLS(ecConfig({ allowedHostname: "h" }), {
    port: "peer",
    skipClientSANVerification: true,
  });
  assert.equal(skip[SERVER_POLICY].policy.checkSAN, false);
  assert.deepEqual(skip[SERVER_POLICY].policy.allowedHostname, ["h"]);
  const client = await loadServerTLS(ecConfig(), { port: "client" });
  assert.equal(client[SERVER_POLICY].policy.checkSAN, false);
});

Deno.test("cipher suites: Go names to OpenSSL names, etcd's error for unknown ones", async () => {
  assert.equal(opensslCiphers([]), undefined);
  assert.equal(
    opensslCiphers([
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    ]),
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:" +
      "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305",
  );
  assert.throws(() => opensslCiphers(["FOO"]), { message: 'unexpected TLS cipher suite "FOO"' });
  await assert.rejects(
    loadServerTLS(ecConfig(), { port: "client", cipherSuites: ["toString"] }),
    { message: 'unexpected TLS cipher suite "toString"' },
  );
});

Deno.test("loadServerTLS: the member's own expired certificate is a warning", async () => {
  const { log, lines } = testLog();
  const o = await loadServerTLS(ecConfig({ certFile: f("server-expired.pem") }), {
    port: "client",
    log,
    now: new Date("2026-01-01T00:00:00Z"),
  });
  assert.ok(o.cert);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    / W \| embed: certificate .*server-expired\.pem is not valid now \(x509: certificate has expired or is not yet valid: current time 2026-01-01T00:00:00Z is after 2020-01-02T00:00:00Z\)$/,
  );
  await loadServerTLS(ecConfig(), { port: "client", log });
  assert.equal(lines.length, 1, "no warning for a valid certificate");
});

Deno.test("loadClientTLS: peer certificate as client certificate, peer CA or system roots", async () => {
  const withCA = await loadClientTLS(ecConfig({ trustedCAFile: f("ca.pem") }));
  assert.match(String(withCA.cert), /BEGIN CERTIFICATE/);
  assert.match(String(withCA.key), /PRIVATE KEY/);
  assert.deepEqual(withCA.ca, [read("ca.pem")]);
  assert.equal(withCA.rejectUnauthorized, true);
  const own = await loadClientTLS(
    ecConfig({ clientCertFile: f("client.pem"), clientKeyFile: f("client.key") }),
  );
  assert.equal(own.cert, read("client.pem"));
  assert.deepEqual(own.ca, systemTrust());
  const auto = await loadClientTLS(ecConfig({ autoTLS: true }));
  assert.equal(auto.rejectUnauthorized, false);
  const none = await loadClientTLS(ecConfig({ certFile: "", keyFile: "" }));
  assert.equal(none.cert, undefined);
});

Deno.test("systemTrust: SSL_CERT_FILE and SSL_CERT_DIR replace the default bundle", () => {
  const before = { file: Deno.env.get("SSL_CERT_FILE"), dir: Deno.env.get("SSL_CERT_DIR") };
  try {
    Deno.env.set("SSL_CERT_FILE", f("ca.pem"));
    Deno.env.delete("SSL_CERT_DIR");
    assert.deepEqual(systemTrust(), [read("ca.pem")]);
    Deno.env.set("SSL_CERT_FILE", f("nope.pem"));
    const certDir = `${dir}/trust`;
    Deno.mkdirSync(certDir, { recursive: true });
    Deno.copyFileSync(f("bad-ca.pem"), `${certDir}/bad.pem`);
    Deno.env.set("SSL_CERT_DIR", certDir);
    assert.deepEqual(systemTrust(), [read("bad-ca.pem")]);
  } finally {
    for (const [k, v] of [["SSL_CERT_FILE", before.file], ["SSL_CERT_DIR", before.dir]]) {
      if (v === undefined) Deno.env.delete(k!);
      else Deno.env.set(k!, v);
    }
  }
  assert.ok(systemTrust().length > 10, "the OS bundle has the public roots");
});

Deno.test("verifyHostname: Go's x509 texts", () => {
  const server = certNames(x509("server-ec.pem"));
  assert.deepEqual(server, {
    commonName: "server",
    ips: ["127.0.71.1", "127.0.0.1"],
    dnsNames: ["localhost", "etcd.test"],
  });
  assert.equal(verifyHostname(server, "127.0.0.1"), undefined);
  assert.equal(verifyHostname(server, "ETCD.test."), undefined);
  assert.equal(
    verifyHostname(server, "127.0.0.2"),
    "x509: certificate is valid for 127.0.71.1, 127.0.0.1, not 127.0.0.2",
  );
  assert.equal(
    verifyHostname(server, "other"),
    "x509: certificate is valid for localhost, etcd.test, not other",
  );
  const wild = { commonName: "", ips: [], dnsNames: ["*.example.com"] };
  assert.equal(verifyHostname(wild, "a.example.com"), undefined);
  assert.notEqual(verifyHostname(wild, "a.b.example.com"), undefined);
  assert.equal(
    verifyHostname(wild, "10.0.0.1"),
    "x509: cannot validate certificate for 10.0.0.1 because it doesn't contain any IP SANs",
  );
  assert.equal(
    verifyHostname({ commonName: "x", ips: [], dnsNames: [] }, "x"),
    "x509: certificate is not valid for any names, but wanted to match x",
  );
});

Deno.test("checkCertSAN: IP SANs, DNS SANs by reverse and forward look-up", async () => {
  const resolver: Resolver = {
    reverse: (ip) => Promise.resolve(ip === "127.0.0.1" ? ["localhost."] : []),
    lookup: (name) => Promise.resolve(name === "node1.test" ? ["127.0.0.9"] : []),
  };
  const names = (n: string) => certNames(x509(n));
  assert.equal(await checkCertSAN(names("client.pem"), "127.0.0.1", resolver), undefined);
  assert.equal(await checkCertSAN(names("client-nosan.pem"), "10.1.1.1", resolver), undefined);
  assert.equal(
    await checkCertSAN(names("client-other-ip.pem"), "127.0.0.1", resolver),
    "x509: certificate is valid for 127.0.5.53, not 127.0.0.1",
  );
  assert.equal(await checkCertSAN(names("client-dns.pem"), "127.0.0.1", resolver), undefined);
  assert.equal(
    await checkCertSAN(names("client-dns-wrong.pem"), "127.0.0.1", resolver),
    'tls: "127.0.0.1" does not match any of DNSNames ["a.invalid" "b.invalid"]',
  );
  const fwd = { commonName: "", ips: [], dnsNames: ["node1.test"] };
  assert.equal(await checkCertSAN(fwd, "127.0.0.9", resolver), undefined);
  const wild = { commonName: "", ips: [], dnsNames: ["*.host"] };
  assert.equal(
    await checkCertSAN(wild, "::ffff:127.0.0.1", resolver),
    'tls: "127.0.0.1" does not match any of DNSNames ["*.host"]',
  );
  // The system resolver reads /etc/hosts as Go does: localhost is 127.0.0.1.
  assert.equal(await checkCertSAN(names("client-dns.pem"), "127.0.0.1"), undefined);
});

Deno.test("checkCRL: PEM and DER lists, etcd's error for a revoked serial", async () => {
  const revoked = read("client-revoked.serial").trim();
  const good = x509("client.pem").serialNumber;
  const hex = revoked.toLowerCase().replace(/^0+/, "");
  for (const crl of ["crl.pem", "crl.der"]) {
    assert.equal(await checkCRL(f(crl), [good]), undefined);
    assert.equal(
      await checkCRL(f(crl), [good, revoked]),
      `transport: certificate serial ${hex} revoked`,
    );
  }
  await assert.rejects(() => checkCRL(f("nope.crl"), [good]), {
    message: `open ${f("nope.crl")}: no such file or directory`,
  });
  await assert.rejects(() => checkCRL(f("ca.pem"), [good]), { message: "x509: malformed crl" });
});

Deno.test({
  name: "cleanup certificates",
  fn: () => Deno.removeSync(dir, { recursive: true }),
});
