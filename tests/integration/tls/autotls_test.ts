import assert from "node:assert/strict";
import { loadServerTLS, selfCert } from "../../../src/tls/mod.ts";
import { testLog } from "../../helpers/log.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { tlsConfig } from "../../helpers/certs.ts";

async function openssl(...args: string[]): Promise<string> {
  const o = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" }).output();
  const td = new TextDecoder();
  if (o.code !== 0) throw new Error(td.decode(o.stderr));
  return td.decode(o.stdout);
}

Deno.test("selfCert: etcd's self-signed certificate, files and modes, reused on restart", async () => {
  await using tmp = tempDir();
  const dataDir = tmp.path;
  const { log, lines } = testLog();
  const dir = `${dataDir}/fixtures/client`;
  const made = await selfCert(dir, ["127.0.5.52:2379", "localhost:2379", "[::1]:2379"], 2, log);
  assert.deepEqual(made, {
    certFile: `${dir}/cert.pem`,
    keyFile: `${dir}/key.pem`,
    created: true,
  });
  assert.equal(Deno.statSync(dir).mode! & 0o777, 0o700);
  assert.equal(Deno.statSync(made.keyFile).mode! & 0o777, 0o600);
  assert.deepEqual(lines.map((l) => l.replace(/^.* I \| /, "")), [
    `pkg/transport: created cert file ${made.certFile}`,
    `pkg/transport: created key file ${made.keyFile}`,
  ]);

  const text = await openssl("x509", "-in", made.certFile, "-noout", "-text");
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA512/);
  assert.match(text, /Issuer: O = etcd\n/);
  assert.match(text, /Subject: O = etcd\n/);
  assert.match(text, /Public-Key: \(521 bit\)/);
  assert.match(text, /NIST CURVE: P-521/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
  assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
  assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
  assert.match(
    text,
    /X509v3 Subject Alternative Name: \n\s+DNS:localhost, IP Address:127\.0\.5\.52, IP Address:0:0:0:0:0:0:0:1\n/,
  );
  const serial = (await openssl("x509", "-in", made.certFile, "-noout", "-serial")).trim();
  assert.ok(serial.length - "serial=".length >= 30, serial);
  const dates = await openssl("x509", "-in", made.certFile, "-noout", "-startdate", "-enddate");
  const [from, to] = dates.trim().split("\n").map((l) => new Date(l.split("=")[1]));
  assert.ok(Math.abs(from.getTime() - Date.now()) < 60_000);
  assert.equal((to.getTime() - from.getTime()) / 86_400_000, 2 * 365);
  assert.match(Deno.readTextFileSync(made.keyFile), /^-----BEGIN EC PRIVATE KEY-----\n/);
  assert.match(
    await openssl("ec", "-in", made.keyFile, "-noout", "-text"),
    /ASN1 OID: secp521r1/,
  );

  // The pair loads (the key matches) and is reused, unchanged, on the next start.
  await loadServerTLS(tlsConfig({ clientCertAuth: true, autoTLS: true, allowedCN: "x", ...made }), {
    port: "client",
  });
  const before = Deno.readTextFileSync(made.certFile);
  const again = await selfCert(dir, ["10.0.0.1:2379"], 1, log);
  assert.equal(again.created, false);
  assert.equal(Deno.readTextFileSync(made.certFile), before);
  assert.equal(lines.length, 2);

  await assert.rejects(selfCert(`${dataDir}/x`, [], 0), {
    message: "selfSignedCertValidity is invalid,it should be greater than 0",
  });
});
