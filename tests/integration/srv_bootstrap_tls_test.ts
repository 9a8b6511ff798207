// The guide's DNS discovery over TLS with etcd-ts members: `_etcd-server-ssl._tcp` records of
// secure.example.com served by dnsmasq in a private network namespace, members on
// 127.0.92.20-22 with https peer URLs and openssl-made certificates.
import assert from "node:assert/strict";
import { type DnsNamespace, netnsSkipReason, nsTest } from "../helpers/dns.ts";
import { ETCD_TS, stop } from "../helpers/process.ts";
import { issueCerts, type IssuedCerts } from "../helpers/certs.ts";
import { memberList } from "../helpers/etcdctl.ts";

const skip = netnsSkipReason();
if (skip) console.log(`skipping SRV TLS bootstrap tests: ${skip}`);

const sip = (i: number) => `127.0.92.${20 + i}`;
const secure = (i: number) => `infra${i}.secure.example.com`;
const SETUP = {
  srv: [0, 1, 2].map((i) => ({
    name: "_etcd-server-ssl._tcp.secure.example.com",
    target: secure(i),
    port: 2380,
  })),
  hosts: [0, 1, 2].map((i) => ({ name: secure(i), addresses: [sip(i)] })),
};

function srvTest(name: string, fn: (ns: DnsNamespace, dataDir: string) => Promise<void>) {
  nsTest(SETUP, skip, name, fn);
}

/**
 * The TLS variant: https peer URLs from `_etcd-server-ssl._tcp.secure.example.com`. Member
 * certificates carry the SRV domain, the member's target name, its address and 127.0.0.1
 * (peer connections on loopback come from 127.0.0.1); `infraN-nodomain` lacks the domain.
 */
function tlsFlags(i: number, dataDir: string, certs: IssuedCerts, cert: string, ca: boolean) {
  return [
    "--name",
    `infra${i}`,
    "--discovery-srv",
    "secure.example.com",
    "--initial-advertise-peer-urls",
    `https://${secure(i)}:2380`,
    "--initial-cluster-token",
    "etcd-cluster-1",
    "--initial-cluster-state",
    "new",
    "--advertise-client-urls",
    `http://${secure(i)}:2379`,
    "--listen-client-urls",
    `http://${sip(i)}:2379`,
    "--listen-peer-urls",
    `https://${sip(i)}:2380`,
    "--peer-cert-file",
    certs.cert(cert),
    "--peer-key-file",
    certs.key(cert),
    ...(ca ? ["--peer-trusted-ca-file", certs.ca] : []),
    "--data-dir",
    `${dataDir}/infra${i}`,
  ];
}

async function srvCerts(dir: string): Promise<IssuedCerts> {
  return await issueCerts(dir, [
    ...[0, 1, 2].map((i) => ({
      name: `infra${i}`,
      san: `DNS:secure.example.com,DNS:${secure(i)},IP:${sip(i)},IP:127.0.0.1`,
    })),
    { name: "infra2-nodomain", san: `DNS:${secure(2)},IP:${sip(2)},IP:127.0.0.1` },
  ]);
}

srvTest("srv bootstrap: ssl records, https peers, with and without a peer CA", async (ns, dir) => {
  const certs = await srvCerts(dir);
  for (const ca of [true, false]) {
    const dataDir = `${dir}/${ca ? "ca" : "noca"}`;
    // Without a peer CA the members trust the OS store (here: SSL_CERT_FILE) and verify each
    // other against the SRV domain.
    const env: Record<string, string> = ca ? {} : { SSL_CERT_FILE: certs.ca };
    const procs = [0, 1, 2].map((i) =>
      ns.spawn(ETCD_TS, tlsFlags(i, dataDir, certs, `infra${i}`, ca), { env })
    );
    try {
      await Promise.all(procs.map((p) => p.waitFor("ready to serve client requests", 30_000)));
      const members = (await memberList(`http://${sip(0)}:2379`, { host: ns })).members;
      assert.deepEqual(
        members.map((m) => [m.name, m.peerURLs]),
        [0, 1, 2].map((i) => [`infra${i}`, [`https://${secure(i)}:2380`]]),
      );
    } finally {
      await Promise.all(procs.map((p) => stop(p)));
    }
  }
});

srvTest(
  "srv bootstrap: without a peer CA, a certificate lacking the SRV domain is refused",
  async (ns, dir) => {
    const certs = await srvCerts(dir);
    const env = { SSL_CERT_FILE: certs.ca };
    const certOf = (i: number) => i === 2 ? "infra2-nodomain" : `infra${i}`;
    const start = (i: number) =>
      ns.spawn(ETCD_TS, tlsFlags(i, dir, certs, certOf(i), false), { env });
    // infra2 listens first, so the others' first dial to it meets its certificate (the
    // transport logs a peer's dial failure once, not every retry).
    const procs = [start(2)];
    try {
      await procs[0].waitFor("listening for peers on", 30_000);
      procs.unshift(start(0), start(1));
      // infra0 and infra1 form the cluster; their dials to infra2 fail verification against the
      // SRV domain (etcd prints Go's x509 text; Node's wording is accepted too).
      await Promise.all(procs.slice(0, 2).map((p) => p.waitFor("ready to serve client requests")));
      const mismatch =
        /not secure\.example\.com|Host: secure\.example\.com\.? is not in the cert's altnames/;
      for (const p of procs.slice(0, 2)) {
        const line = await p.waitFor((l) => l.includes("failed to dial") && mismatch.test(l));
        assert.ok(line.includes(secure(2)), line);
      }
    } finally {
      await Promise.all(procs.map((p) => stop(p)));
    }
  },
);
