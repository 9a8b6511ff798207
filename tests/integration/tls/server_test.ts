// createSecureServer end to end: a node:tls server with loadServerTLS's options, driven by curl.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import type { TLSConfig } from "../../../src/config/mod.ts";
import { createSecureServer, loadServerTLS, type ServerTLSOptions } from "../../../src/tls/mod.ts";
import { makeTLSCerts, tlsConfig } from "../../helpers/certs.ts";
import { testLog } from "../../helpers/log.ts";
import { curl } from "../../helpers/curl.ts";

const dir = await makeTLSCerts();
const f = (name: string) => `${dir}/${name}`;
const HOST = "127.0.71.1";

/** The ECDSA server pair trusting the test CA, and `over`. */
function ecConfig(over: Partial<TLSConfig> = {}): TLSConfig {
  return tlsConfig({
    certFile: f("server-ec.pem"),
    keyFile: f("server-ec1.key"),
    trustedCAFile: f("ca.pem"),
    ...over,
  });
}

interface Served {
  url: string;
  port: number;
  lines: string[];
  waitForLines(n: number): Promise<void>;
  close(): Promise<void>;
}

async function serve(cfg: TLSConfig, opts: ServerTLSOptions): Promise<Served> {
  const { log, lines, waitForLines } = testLog();
  const serverTLS = await loadServerTLS(cfg, opts);
  const sockets = new Set<net.Socket>();
  const server = createSecureServer(serverTLS, {
    log,
    tls: { ALPNProtocols: ["http/1.1"] },
    onSecure: (socket) => {
      socket.once("data", () => {
        socket.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
      });
    },
  });
  server.on("connection", (s: net.Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `https://${HOST}:${port}/`,
    port,
    lines,
    waitForLines,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  };
}

const withCert = (
  name: string,
) => ["--cacert", f("ca.pem"), "--cert", f(name), "--key", f("client.key")];

Deno.test("secure server: client-port mTLS with curl (valid, none, untrusted, expired, plain HTTP)", async () => {
  const srv = await serve(ecConfig(), { port: "client" });
  try {
    let r = await curl(...withCert("client.pem"), srv.url);
    assert.equal(r.stdout, "ok");
    assert.deepEqual(srv.lines, []);

    const cases: [string[], RegExp][] = [
      [
        ["--cacert", f("ca.pem")],
        /\(error "tls: client didn't provide a certificate", ServerName ""\)$/,
      ],
      [
        withCert("client-untrusted.pem"),
        /\(error "tls: failed to verify client certificate: x509: certificate signed by unknown authority", ServerName ""\)$/,
      ],
      [
        withCert("client-expired.pem"),
        /\(error "tls: failed to verify client certificate: x509: certificate has expired or is not yet valid: current time \S+ is after 2020-01-02T00:00:00Z", ServerName ""\)$/,
      ],
      [
        ["http://" + srv.url.slice("https://".length)],
        /\(error "tls: first record does not look like a TLS handshake", ServerName ""\)$/,
      ],
      [
        [
          "--cacert",
          f("ca.pem"),
          "--resolve",
          `etcd.test:${srv.port}:${HOST}`,
          `https://etcd.test:${srv.port}/`,
        ],
        /\(error "tls: client didn't provide a certificate", ServerName "etcd.test"\)$/,
      ],
    ];
    for (const [args, line] of cases) {
      const before: number = srv.lines.length;
      r = await curl(...args, args.at(-1)!.startsWith("http") ? "" : srv.url);
      assert.notEqual(r.code, 0, `refused: ${args.join(" ")}`);
      assert.doesNotMatch(r.stdout, /ok$/);
      await srv.waitForLines(before + 1);
      assert.equal(
        srv.lines.length,
        before + 1,
        `one line for ${args.join(" ")}: ${srv.lines.slice(before)}`,
      );
      assert.match(srv.lines[before], / I \| embed: rejected connection from "127\.0\.0\.1:\d+" /);
      assert.match(srv.lines[before], line);
    }
    // Plain HTTP gets no answer at all, as from etcd (curl: empty reply).
    r = await curl("http://" + srv.url.slice("https://".length));
    assert.equal(r.code, 52);
    // A client that does not trust the server refuses it: the server logs the client's alert.
    const n = srv.lines.length;
    r = await curl(srv.url);
    assert.notEqual(r.code, 0);
    await srv.waitForLines(n + 1);
    assert.match(srv.lines[n], /\(error "remote error: tls: [a-z ]+", ServerName ""\)$/);
  } finally {
    await srv.close();
  }
});

Deno.test("secure server: without client-cert auth any client is served", async () => {
  const srv = await serve(ecConfig({ trustedCAFile: "" }), { port: "client" });
  try {
    assert.equal((await curl("--cacert", f("ca.pem"), srv.url)).stdout, "ok");
    assert.equal((await curl(...withCert("client-untrusted.pem"), srv.url)).stdout, "ok");
  } finally {
    await srv.close();
  }
});

Deno.test("secure server: peer port checks (SAN vs source address, allowed CN, CRL)", async () => {
  const peer = await serve(ecConfig({ crlFile: f("crl.pem") }), { port: "peer" });
  try {
    assert.equal((await curl(...withCert("client.pem"), peer.url)).stdout, "ok");
    assert.equal((await curl(...withCert("client-nosan.pem"), peer.url)).stdout, "ok");
    assert.equal((await curl(...withCert("client-dns.pem"), peer.url)).stdout, "ok");
    const refused: [string, string][] = [
      [
        "client-other-ip.pem",
        'x509: certificate is valid for 127.0.5.53, not 127.0.0.1", ServerName "", IPAddresses ["127.0.5.53"], DNSNames [])',
      ],
      [
        "client-dns-wrong.pem",
        'tls: \\"127.0.0.1\\" does not match any of DNSNames [\\"a.invalid\\" \\"b.invalid\\"]", ServerName "", IPAddresses [], DNSNames ["a.invalid" "b.invalid"])',
      ],
      ["client-revoked.pem", "transport: certificate serial "],
    ];
    for (const [cert, text] of refused) {
      const before: number = peer.lines.length;
      const r = await curl(...withCert(cert), peer.url);
      assert.notEqual(r.stdout, "ok", cert);
      await peer.waitForLines(before + 1);
      assert.equal(peer.lines.length, before + 1);
      assert.ok(peer.lines[before].includes(text), `${cert}: ${peer.lines[before]}`);
    }
  } finally {
    await peer.close();
  }

  const skip = await serve(ecConfig({ allowedCN: "root" }), {
    port: "peer",
    skipClientSANVerification: true,
  });
  try {
    assert.equal((await curl(...withCert("client-other-ip.pem"), skip.url)).stdout, "ok");
    const r = await curl(...withCert("client-other-cn.pem"), skip.url);
    assert.notEqual(r.stdout, "ok");
    await skip.waitForLines(1);
    assert.match(skip.lines[0], /error "client certificate authentication failed"/);
  } finally {
    await skip.close();
  }
});

Deno.test("secure server: the key pair is re-read when its files change", async () => {
  const certFile = f("rotating.pem");
  const keyFile = f("rotating.key");
  Deno.copyFileSync(f("server-ec.pem"), certFile);
  Deno.copyFileSync(f("server-ec1.key"), keyFile);
  const srv = await serve(ecConfig({ certFile, keyFile, trustedCAFile: "" }), { port: "client" });
  const servedSerial = () =>
    new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: HOST, port: srv.port, rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate().serialNumber);
        s.destroy();
      });
      s.once("error", reject);
    });
  const serial = (file: string) => new crypto.X509Certificate(Deno.readFileSync(file)).serialNumber;
  try {
    assert.equal(await servedSerial(), serial(f("server-ec.pem")));
    Deno.copyFileSync(f("server-rsa.pem"), certFile);
    Deno.copyFileSync(f("server-rsa1.key"), keyFile);
    assert.equal(await servedSerial(), serial(f("server-rsa.pem")));
    Deno.removeSync(keyFile);
    const r = await curl("-k", srv.url);
    assert.notEqual(r.code, 0);
    await srv.waitForLines(1);
    assert.match(srv.lines[0], new RegExp(`error "open ${keyFile}: no such file or directory"`));
  } finally {
    await srv.close();
  }
});

Deno.test({
  name: "cleanup certificates",
  fn: () => Deno.removeSync(dir, { recursive: true }),
});
