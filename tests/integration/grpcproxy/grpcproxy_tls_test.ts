// `etcd-ts grpc-proxy start` with TLS on both sides, openssl-made certificates: three etcd-ts
// members on https with client-cert-auth (127.0.212.10-12), a proxy (127.0.212.20) that presents
// its client certificate to them and requires one from its own clients, with a metrics URL on
// https; a proxy without a certificate for the cluster; an auto-TLS proxy. Address block
// 127.0.212.x.
import assert from "node:assert/strict";
import { guideTLSFlags, type KeyPair, makeClusterCerts } from "../../helpers/certs.ts";
import { makeCluster } from "../../helpers/cluster.ts";
import { etcdctl, spawnEtcdctl } from "../../helpers/etcdctl.ts";
import { startGrpcProxy } from "../../helpers/grpc_proxy.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { itest, type Proc, run, stop } from "../../helpers/process.ts";
import { tempDir } from "../../helpers/tmp.ts";

const BLOCK = "127.0.212";
const P = `${BLOCK}.20:23790`;
const METRICS = `https://${BLOCK}.20:23791`;
const NO_CERT = `${BLOCK}.21:23790`;
const AUTO = `${BLOCK}.22:23790`;

const auth = (ca: string, pair?: KeyPair) => [
  `--cacert=${ca}`,
  ...(pair ? [`--cert=${pair.cert}`, `--key=${pair.key}`] : []),
];

function curl(ca: string, pair: KeyPair | undefined, url: string) {
  const cert = pair ? ["--cert", pair.cert, "--key", pair.key] : [];
  return run("curl", ["-sS", "--cacert", ca, ...cert, url]);
}

itest(
  "grpc-proxy: TLS to the cluster and to the clients, client certificates both ways",
  async () => {
    for (const ip of [20, 21, 22]) await assertPortsFree(`${BLOCK}.${ip}`, [23790, 23791]);
    const tls = await makeClusterCerts([10, 11, 12, 20].map((i) => `${BLOCK}.${i}`));
    const c = await makeCluster(BLOCK, 3, "etcd-cluster-1", { scheme: "https" });
    for (let i = 0; i < 3; i++) c.start(i, guideTLSFlags(tls.ca, tls.member(i)));
    const proxies: Proc[] = [];
    const dataDir = tempDir().path;
    try {
      await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
      const toCluster = ["--endpoints", c.endpoints, ...auth(tls.ca, tls.client)];
      proxies.push(
        await startGrpcProxy([
          ...toCluster,
          ...["--listen-addr", P, "--metrics-addr", METRICS],
          ...[`--cert-file=${tls.member(3).cert}`, `--key-file=${tls.member(3).key}`],
          `--trusted-ca-file=${tls.ca}`,
        ]),
      );
      const url = `https://${P}`;
      const ok = auth(tls.ca, tls.client);
      assert.equal((await etcdctl(url, ...ok, "put", "k", "over-tls")).stdout, "OK\n");
      const direct = await etcdctl(c.members[1].clientURL, ...ok, "get", "k", "--print-value-only");
      assert.equal(direct.stdout, "over-tls\n");
      const watch = spawnEtcdctl(url, [...ok, "watch", "k", "--rev=1"]);
      try {
        await watch.waitFor("over-tls");
      } finally {
        await stop(watch);
      }
      // The proxy asks for a certificate from its CA, as a member does with --trusted-ca-file.
      for (const pair of [undefined, tls.untrustedClient]) {
        const r = await etcdctl(
          url,
          ...auth(tls.ca, pair),
          "--dial-timeout=2s",
          "--command-timeout=2s",
          "get",
          "k",
        );
        assert.notEqual(r.code, 0);
        assert.equal(r.stdout, "");
      }
      // /metrics is a member's own, fetched over https with the proxy's client certificate; the
      // metrics URL serves it too, with the port's TLS.
      const metrics = await curl(tls.ca, tls.client, `${url}/metrics`);
      assert.match(metrics.stdout, /^etcd_server_has_leader 1$/m);
      assert.match(
        (await curl(tls.ca, tls.client, `${METRICS}/metrics`)).stdout,
        /^etcd_server_has_leader 1$/m,
      );
      assert.equal(
        (await curl(tls.ca, tls.client, `${METRICS}/health`)).stdout,
        '{"health":"true"}',
      );
      assert.notEqual((await curl(tls.ca, undefined, `${METRICS}/health`)).code, 0);

      // Without a client certificate the members refuse the proxy: calls run out of time.
      proxies.push(
        await startGrpcProxy([
          "--endpoints",
          c.endpoints,
          `--cacert=${tls.ca}`,
          "--listen-addr",
          NO_CERT,
        ]),
      );
      const refused = await etcdctl(NO_CERT, "--command-timeout=2s", "get", "k");
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /context deadline exceeded/);

      // Auto-TLS: a self-signed certificate under --data-dir; clients skip verification.
      proxies.push(
        await startGrpcProxy([
          ...toCluster,
          "--listen-addr",
          AUTO,
          "--auto-tls",
          "--data-dir",
          dataDir,
        ]),
      );
      const skip = await etcdctl(
        `https://${AUTO}`,
        "--insecure-transport=false",
        "--insecure-skip-tls-verify",
        "get",
        "k",
        "--print-value-only",
      );
      assert.equal(skip.stdout, "over-tls\n", skip.stderr);
      assert.ok(Deno.statSync(`${dataDir}/fixtures/proxy/cert.pem`).isFile);
      const plain = await etcdctl(
        `http://${AUTO}`,
        "--dial-timeout=2s",
        "--command-timeout=2s",
        "get",
        "k",
      );
      assert.notEqual(plain.code, 0);
    } finally {
      await Promise.all(proxies.map((p) => stop(p)));
      await c.stopAll();
    }
  },
);
