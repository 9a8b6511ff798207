import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import net from "node:net";
import { GrpcServer } from "../../../src/api/mod.ts";
import { startServer, unaryCall } from "../../helpers/grpc.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { issueCerts } from "../../helpers/certs.ts";
import { sleep } from "../../helpers/wait.ts";
import { curl } from "../../helpers/curl.ts";

const te = new TextEncoder();

function kvServer(): GrpcServer {
  const g = new GrpcServer();
  g.addService("etcdserverpb.KV", {
    Range: (req, ctx) =>
      Promise.resolve({
        kvs: [{
          key: req.key,
          value: te.encode(String(ctx.peerCertificate()?.subject?.CN ?? "anonymous")),
        }],
      }),
  });
  return g;
}

const echoRoute = {
  routes: (app: import("hono").Hono) =>
    app.post("/echo", async (c) => c.text(`${c.req.header("x-test") ?? ""}:${await c.req.text()}`)),
};

const range = (client: grpc.Client, key: string) =>
  unaryCall(
    client,
    "/etcdserverpb.KV/Range",
    "etcdserverpb.RangeRequest",
    "etcdserverpb.RangeResponse",
    {
      key: te.encode(key),
    },
  );

Deno.test("listener: one plain port serves HTTP/1.1, h2c HTTP and gRPC", async () => {
  const fx = await startServer("127.0.60.20", kvServer(), echoRoute);
  const base = `http://${fx.target}`;
  try {
    let r = await curl("-w", " %{http_version}", `${base}/version`);
    assert.equal(r.stdout, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"} 1.1');
    r = await curl("--http2-prior-knowledge", "-w", " %{http_version}", `${base}/health`);
    assert.equal(r.stdout, '{"health":"true"} 2');
    r = await curl("--http2-prior-knowledge", "-H", "x-test: h", "-d", "body2", `${base}/echo`);
    assert.equal(r.stdout, "h:body2");
    r = await curl("-H", "x-test: h", "-d", "body1", `${base}/echo`);
    assert.equal(r.stdout, "h:body1");
    r = await curl("--http2-prior-knowledge", "-w", "%{http_code}", `${base}/nope`);
    assert.equal(r.stdout, "404 page not found\n404");

    const client = new grpc.Client(fx.target, grpc.credentials.createInsecure());
    const res = await range(client, "k1");
    assert.equal(new TextDecoder().decode(res.kvs[0].key), "k1");
    client.close();
  } finally {
    await fx.close();
  }
});

Deno.test("listener: the preface and HTTP/1.1 requests may arrive in pieces", async () => {
  const fx = await startServer("127.0.60.20", kvServer());
  const exchange = async (parts: string[]) => {
    const sock = net.connect(fx.listener.address.port, "127.0.60.20");
    await new Promise((r) => sock.once("connect", r));
    for (const p of parts) {
      sock.write(p);
      await sleep(30);
    }
    const reply = await new Promise<string>((r) =>
      sock.once("data", (d) => r(d.toString("latin1")))
    );
    sock.destroy();
    return reply;
  };
  try {
    const h1 = await exchange(["GE", "T /version HTTP/1.1\r\nHost: x\r\n\r\n"]);
    assert.match(h1, /^HTTP\/1\.1 200 OK/);
    // An HTTP/2 server answers the preface with its SETTINGS frame (type 4 at byte 3).
    const h2 = await exchange(["PRI * HT", "TP/2.0\r\n\r\nSM\r\n\r\n"]);
    assert.equal(h2.charCodeAt(3), 4);
  } finally {
    await fx.close();
  }
});

Deno.test("listener: close() drops open connections and frees the port", async () => {
  const fx = await startServer("127.0.60.20", kvServer());
  const sock = net.connect(fx.listener.address.port, "127.0.60.20");
  await new Promise((r) => sock.once("connect", r));
  const closed = new Promise((r) => sock.once("close", r));
  await fx.close();
  await closed;
  const r = await curl(`http://${fx.target}/version`);
  assert.equal(r.code, 7); // could not connect
});

Deno.test("listener: TLS port serves HTTP/2 and HTTP/1.1 curl and grpc-js, with client certs", async () => {
  await using tmp = tempDir();
  const dir = tmp.path;
  await issueCerts(dir, [
    { name: "server", san: "IP:127.0.60.21,DNS:etcd.test" },
    { name: "client", cn: "root" },
  ]);
  const read = (f: string) => Buffer.from(Deno.readFileSync(`${dir}/${f}`));
  const fx = await startServer("127.0.60.21", kvServer(), {
    ...echoRoute,
    tls: {
      cert: read("server.pem"),
      key: read("server.key"),
      ca: read("ca.pem"),
      requestCert: true,
      rejectUnauthorized: false,
    },
  });
  const base = `https://${fx.target}`;
  const tlsArgs = ["--cacert", `${dir}/ca.pem`];
  try {
    let r = await curl(...tlsArgs, "-w", " %{http_version}", `${base}/version`);
    assert.equal(r.stdout, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"} 2');
    r = await curl(...tlsArgs, "--http1.1", "-w", " %{http_version}", `${base}/health`);
    assert.equal(r.stdout, '{"health":"true"} 1.1');
    r = await curl(...tlsArgs, "-d", "x", `${base}/echo`);
    assert.equal(r.stdout, ":x");
    // Without ALPN the preface is sniffed as on plain ports.
    r = await curl(...tlsArgs, "--no-alpn", "-w", " %{http_version}", `${base}/version`);
    assert.match(r.stdout, / 1\.1$/);

    // Deno's tls.connect rejects an IP address as servername (Node only warns), so grpc-js
    // needs a host name to verify against.
    const named = { "grpc.ssl_target_name_override": "etcd.test" };
    const anon = new grpc.Client(fx.target, grpc.credentials.createSsl(read("ca.pem")), named);
    assert.equal(new TextDecoder().decode((await range(anon, "a")).kvs[0].value), "anonymous");
    anon.close();
    const withCert = new grpc.Client(
      fx.target,
      grpc.credentials.createSsl(read("ca.pem"), read("client.key"), read("client.pem")),
      named,
    );
    assert.equal(new TextDecoder().decode((await range(withCert, "a")).kvs[0].value), "root");
    withCert.close();
  } finally {
    await fx.close();
  }

  // rejectUnauthorized: a client without a certificate is refused during the handshake.
  const strict = await startServer("127.0.60.21", kvServer(), {
    tls: {
      cert: read("server.pem"),
      key: read("server.key"),
      ca: read("ca.pem"),
      requestCert: true,
      rejectUnauthorized: true,
    },
  });
  try {
    const url = `https://${strict.target}/version`;
    assert.notEqual((await curl(...tlsArgs, url)).code, 0);
    const ok = await curl(
      ...tlsArgs,
      "--cert",
      `${dir}/client.pem`,
      "--key",
      `${dir}/client.key`,
      url,
    );
    assert.equal(ok.stdout, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
  } finally {
    await strict.close();
  }
});
