// The guide's TLS clusters with etcd-ts in place of etcd, on loopback (127.0.19.x in place of
// 10.0.1.x): self-signed certificates (openssl-made, client and peer TLS with client-cert-auth)
// driven by etcdctl, curl and the etcd3 client; automatic certificates; a member whose peer
// certificate comes from another CA. Address block 127.0.19.x.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Etcd3 } from "etcd3";
import {
  type ClusterCerts,
  guideTLSFlags,
  type KeyPair,
  makeClusterCerts,
} from "../helpers/certs.ts";
import { type Cluster, makeCluster } from "../helpers/cluster.ts";
import { itest, type Proc, run } from "../helpers/process.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import { sleep } from "../helpers/wait.ts";

const BLOCK = "127.0.19";
const IPS = [10, 11, 12].map((i) => `${BLOCK}.${i}`);

// One set of certificates for every test in this file.
let certsMade: Promise<ClusterCerts> | undefined;
const certs = () => certsMade ??= makeClusterCerts(IPS);

const ready = (c: Cluster) =>
  Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests", 30_000)));

const clientFlags = (ca: string, pair?: KeyPair) => [
  `--cacert=${ca}`,
  ...(pair ? [`--cert=${pair.cert}`, `--key=${pair.key}`] : []),
];

/** etcdctl expected to fail: bounded well below the helper's timeouts. */
const refusedCtl = (endpoint: string, ...args: string[]) =>
  etcdctl(endpoint, ...args, "--dial-timeout=2s", "--command-timeout=2s", "get", "k");

const rejections = (p: Proc) => p.lines.filter((l) => l.includes("rejected connection from"));

/** Waits until `p` has logged more than `n` rejections, then a moment for stragglers. */
async function rejectedAfter(p: Proc, n: number): Promise<string[]> {
  await p.waitFor(() => rejections(p).length > n, 10_000);
  await sleep(200);
  return rejections(p).slice(n);
}

function curl(c: ClusterCerts, pair: KeyPair | undefined, url: string, ...args: string[]) {
  const auth = pair ? ["--cert", pair.cert, "--key", pair.key] : [];
  return run("curl", ["-sS", "-i", "--http2", "--cacert", c.ca, ...auth, ...args, url]);
}

const REJECTED =
  /^\S+ \S+ I \| embed: rejected connection from "127\.0\.0\.1:\d+" \(error "(.*)", ServerName "[\w.]*"\)$/;

itest(
  "the guide's TLS cluster: etcdctl, curl over HTTP/2 and etcd3 with client certificates; refusals",
  async () => {
    const tls = await certs();
    const c = await makeCluster(BLOCK, 3, "etcd-cluster-1", { scheme: "https" });
    try {
      for (let i = 0; i < 3; i++) c.start(i, guideTLSFlags(tls.ca, tls.member(i)));
      await ready(c);
      const [m0, m1, m2] = c.members;
      const ok = clientFlags(tls.ca, tls.client);
      assert.equal((await etcdctl(m0.clientURL, ...ok, "put", "k", "over-tls")).stdout, "OK\n");
      assert.equal(
        (await etcdctl(m1.clientURL, ...ok, "get", "k", "--print-value-only")).stdout,
        "over-tls\n",
      );
      const list = (await etcdctl(m2.clientURL, ...ok, "member", "list")).stdout;
      for (const m of c.members) {
        assert.match(list, new RegExp(`, started, ${m.name}, ${m.peerURL}, ${m.clientURL}, false`));
      }

      // No client certificate: etcdctl gives up; each refused connection is logged once.
      let before = rejections(m1.proc!).length;
      const bare = await refusedCtl(m1.clientURL, ...clientFlags(tls.ca));
      assert.equal(bare.code, 1);
      assert.match(bare.stderr, /context deadline exceeded/);
      let lines = await rejectedAfter(m1.proc!, before);
      for (const l of lines) {
        assert.equal(REJECTED.exec(l)?.[1], "tls: client didn't provide a certificate", l);
      }
      const ports = lines.map((l) => /:(\d+)"/.exec(l)![1]);
      assert.equal(new Set(ports).size, ports.length, `one line per connection: ${lines}`);

      // curl over HTTP/2: the HTTP handlers and the JSON gateway on the TLS port.
      const health = await curl(tls, tls.client, `${m2.clientURL}/health`);
      assert.match(health.stdout, /^HTTP\/2 200 /);
      assert.match(health.stdout, /\{"health":"true"\}$/);
      const version = await curl(tls, tls.client, `${m2.clientURL}/version`);
      assert.match(version.stdout, /^HTTP\/2 200 /);
      assert.match(version.stdout, /"etcdserver":"3\.4\.23"/);
      const range = await curl(
        tls,
        tls.client,
        `${m2.clientURL}/v3/kv/range`,
        "-d",
        '{"key":"aw=="}',
      );
      assert.match(range.stdout, /^HTTP\/2 200 /);
      const body = JSON.parse(range.stdout.slice(range.stdout.indexOf("\r\n\r\n") + 4));
      assert.equal(atob(body.kvs[0].value), "over-tls");

      // Untrusted, expired or missing client certificates: refused at the handshake, one line each.
      const refused: [KeyPair | undefined, string][] = [
        [undefined, "tls: client didn't provide a certificate"],
        [
          tls.untrustedClient,
          "tls: failed to verify client certificate: x509: certificate signed by unknown authority",
        ],
        [
          tls.expiredClient,
          "tls: failed to verify client certificate: x509: certificate has expired or is not yet valid: current time ",
        ],
      ];
      for (const [pair, error] of refused) {
        before = rejections(m2.proc!).length;
        const r = await curl(tls, pair, `${m2.clientURL}/health`);
        assert.notEqual(r.code, 0, `curl with ${pair?.cert ?? "no certificate"} refused`);
        assert.doesNotMatch(r.stdout, /health/);
        lines = await rejectedAfter(m2.proc!, before);
        assert.equal(lines.length, 1, `${lines}`);
        assert.ok(REJECTED.exec(lines[0])?.[1].startsWith(error), lines[0]);
      }
      for (const pair of [tls.untrustedClient, tls.expiredClient]) {
        const r = await refusedCtl(m0.clientURL, ...clientFlags(tls.ca, pair));
        assert.equal(r.code, 1, `etcdctl with ${pair.cert} refused`);
        assert.match(r.stderr, /context deadline exceeded/);
      }

      // The etcd3 client over mutual TLS. Deno's TLS takes no IP address as server name: the
      // members' certificates carry DNS:etcd.test, which the client checks instead.
      const putAndList = async (pair: KeyPair) => {
        const client = new Etcd3({
          hosts: c.members.map((m) => m.clientURL),
          credentials: {
            rootCertificate: Buffer.from(await Deno.readFile(tls.ca)),
            certChain: Buffer.from(await Deno.readFile(pair.cert)),
            privateKey: Buffer.from(await Deno.readFile(pair.key)),
          },
          grpcOptions: { "grpc.ssl_target_name_override": "etcd.test" },
          defaultCallOptions: () => ({ deadline: Date.now() + 3000 }),
        });
        try {
          for (let i = 0; i < 6; i++) await client.put(`e${i}`).value(`v${i}`);
          return await client.getAll().prefix("e").strings();
        } finally {
          client.close();
        }
      };
      assert.deepEqual(
        await putAndList(tls.client),
        Object.fromEntries(
          Array.from({ length: 6 }, (_, i) => [`e${i}`, `v${i}`]),
        ),
      );
      // The same client with an untrusted or expired certificate: refused by the members.
      for (const [pair, error] of refused.slice(1)) {
        const counts = c.members.map((m) => rejections(m.proc!).length);
        await assert.rejects(putAndList(pair!), (e: Error) => /\b14 UNAVAILABLE\b/.test(e.message));
        const member = await Promise.any(
          c.members.map((m, i) => rejectedAfter(m.proc!, counts[i]).then(() => i)),
        );
        for (const l of rejections(c.members[member].proc!).slice(counts[member])) {
          assert.match(l, /, ServerName "etcd\.test"\)$/);
          assert.ok(REJECTED.exec(l)?.[1].startsWith(error), l);
        }
      }
    } finally {
      await c.stopAll();
    }
  },
);

itest(
  "the guide's auto-TLS cluster: etcdctl with --insecure-skip-tls-verify, https peer URLs, etcd's files",
  async () => {
    const c = await makeCluster(BLOCK, 3, "etcd-cluster-1", { scheme: "https" });
    try {
      for (let i = 0; i < 3; i++) c.start(i, ["--auto-tls", "--peer-auto-tls"]);
      await ready(c);
      const [m0, m1, m2] = c.members;
      // etcdctl 3.4 needs both flags: the skip flag alone leaves the transport insecure.
      const skip = ["--insecure-transport=false", "--insecure-skip-tls-verify"];
      assert.equal((await etcdctl(m0.clientURL, ...skip, "put", "k", "auto")).stdout, "OK\n");
      assert.equal(
        (await etcdctl(m2.clientURL, ...skip, "get", "k", "--print-value-only")).stdout,
        "auto\n",
      );
      const list = (await etcdctl(m1.clientURL, ...skip, "member", "list")).stdout;
      for (const m of c.members) {
        assert.match(list, new RegExp(`, started, ${m.name}, ${m.peerURL}, ${m.clientURL}, false`));
      }
      const health = await run("curl", ["-sS", "-i", "-k", "--http2", `${m1.clientURL}/health`]);
      assert.match(health.stdout, /^HTTP\/2 200 /);

      // etcd's files and modes (what etcd 3.4.23 leaves: 0700 dirs, 0600 keys, certs per umask).
      const mode = (p: string) => Deno.statSync(p).mode! & 0o777;
      const certMode = 0o666 & ~Deno.umask();
      for (const m of c.members) {
        assert.equal(mode(`${m.dataDir}/fixtures`), 0o700);
        for (const port of ["client", "peer"]) {
          const dir = `${m.dataDir}/fixtures/${port}`;
          assert.equal(mode(dir), 0o700);
          assert.equal(mode(`${dir}/key.pem`), 0o600);
          assert.equal(mode(`${dir}/cert.pem`), certMode);
          // SANs from the listen URL's host.
          const san = await run("openssl", [
            "x509",
            "-noout",
            "-ext",
            "subjectAltName",
            "-in",
            `${dir}/cert.pem`,
          ]);
          assert.match(
            san.stdout,
            new RegExp(`^\\s+IP Address:${m.ip.replaceAll(".", "\\.")}$`, "m"),
          );
        }
      }
    } finally {
      await c.stopAll();
    }
  },
);

itest("a member whose peer certificate comes from another CA cannot join", async () => {
  const tls = await certs();
  const c = await makeCluster(BLOCK, 3, "etcd-cluster-1", { scheme: "https" });
  try {
    const [m0, m1, m2] = c.members;
    c.start(0, guideTLSFlags(tls.ca, tls.member(0)));
    c.start(1, guideTLSFlags(tls.ca, tls.member(1)));
    // infra2: the right CA files, but its peer certificate comes from the other CA.
    c.start(2, guideTLSFlags(tls.ca, tls.member(2), tls.untrustedMember(2)));
    // infra0 and infra1 are a quorum: they elect a leader and publish.
    await Promise.all([m0, m1].map((m) => m.proc!.waitFor("ready to serve client requests")));
    const ok = clientFlags(tls.ca, tls.client);
    assert.equal((await etcdctl(m0.clientURL, ...ok, "put", "k", "two")).stdout, "OK\n");
    assert.equal(
      (await etcdctl(m1.clientURL, ...ok, "get", "k", "--print-value-only")).stdout,
      "two\n",
    );

    // The bound of the wait: each healthy member refuses infra2's peer connections again after
    // the cluster works; infra2 refuses theirs.
    const unknownCA =
      "tls: failed to verify client certificate: x509: certificate signed by unknown authority";
    for (const m of [m0, m1]) {
      const lines = await rejectedAfter(m.proc!, rejections(m.proc!).length);
      for (const l of lines) assert.equal(REJECTED.exec(l)?.[1], unknownCA, l);
    }
    // infra2 refuses the healthy members' connections when they refuse its certificate. etcd's
    // Go dialer sends the alert bad_certificate (`remote error: tls: bad certificate` on
    // infra2); Deno's TLS dialer sends unknown_ca.
    for (const l of await rejectedAfter(m2.proc!, 0)) {
      assert.match(
        REJECTED.exec(l)?.[1] ?? l,
        /^remote error: tls: (bad certificate|unknown certificate authority)$/,
      );
    }
    const p2 = m2.proc!.lines;
    for (const never of ["elected leader", "became leader", "published", "ready to serve"]) {
      assert.ok(!p2.some((l) => l.includes(never)), `infra2 logged "${never}"`);
    }
    // It never published its client URLs to the cluster.
    const list = (await etcdctl(m0.clientURL, ...ok, "member", "list")).stdout;
    assert.match(list, new RegExp(`, started, infra2, ${m2.peerURL}, , false\n`));
  } finally {
    await c.stopAll();
  }
});
