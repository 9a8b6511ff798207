// `etcd-ts diagnose srv` against a real DNS server: dnsmasq in a private network namespace
// (tests/helpers/dns.ts) with the guide's records, run with the flags of the members in
// tests/integration/srv_bootstrap_test.ts, and openssl-made peer certificates.
import assert from "node:assert/strict";
import { type DnsNamespace, netnsSkipReason, nsTest, srvRecord } from "../../helpers/dns.ts";
import { ETCD_TS, type Run } from "../../helpers/process.ts";
import { issueCerts, type IssuedCerts } from "../../helpers/certs.ts";

const skip = netnsSkipReason();
if (skip) console.log(`skipping diagnose srv tests: ${skip}`);

const NS_ERR = "on 127.0.0.1:53: no such host";
const ip = (i: number) => `127.0.92.${10 + i}`;
const sip = (i: number) => `127.0.92.${20 + i}`;
const infra = (i: number) => `infra${i}.example.com`;
const secure = (i: number) => `infra${i}.secure.example.com`;
const SETUP = {
  srv: [0, 1, 2].flatMap((i) => [
    srvRecord("_etcd-server._tcp.example.com", infra(i), 2380),
    srvRecord("_etcd-client._tcp.example.com", infra(i), 2379),
    srvRecord("_etcd-server-foo._tcp.example.com", infra(i), 2480),
    srvRecord("_etcd-server-ssl._tcp.secure.example.com", secure(i), 2380),
  ]),
  hosts: [
    ...[0, 1, 2, 9].map((i) => ({ name: infra(i), addresses: [ip(i)] })),
    ...[0, 1, 2].map((i) => ({ name: secure(i), addresses: [sip(i)] })),
  ],
};

interface Member {
  i?: number;
  domain?: string;
  advertise?: string;
  peerPort?: number;
  scheme?: "http" | "https";
  listenPeer?: string;
  extra?: string[];
}

/** The flags member infra<i> runs with (srv_bootstrap_test.ts), after `diagnose srv DOMAIN`. */
function diagnoseArgs(m: Member = {}): string[] {
  const i = m.i ?? 0;
  const scheme = m.scheme ?? "http";
  const isSecure = m.domain === "secure.example.com";
  const host = m.advertise ?? (isSecure ? secure(i) : infra(i));
  const addr = isSecure ? sip(i) : ip(i);
  return [
    "diagnose",
    "srv",
    m.domain ?? "example.com",
    "--name",
    `infra${i}`,
    "--initial-advertise-peer-urls",
    `${scheme}://${host}:${m.peerPort ?? 2380}`,
    "--initial-cluster-token",
    "etcd-cluster-1",
    "--initial-cluster-state",
    "new",
    "--advertise-client-urls",
    `http://${host}:2379`,
    "--listen-client-urls",
    `http://${addr}:2379`,
    "--listen-peer-urls",
    m.listenPeer ?? `${scheme}://${addr}:${m.peerPort ?? 2380}`,
    ...(m.extra ?? []),
  ];
}

function diagnose(ns: DnsNamespace, m: Member = {}): Promise<Run> {
  return ns.run(ETCD_TS, diagnoseArgs(m));
}

/** Asserts the exit code and that every fragment appears in stdout. */
function expectReport(r: Run, code: number, fragments: string[]): void {
  assert.equal(r.code, code, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  for (const f of fragments) assert.ok(r.stdout.includes(f), `missing ${f}:\n${r.stdout}`);
}

function diagTest(name: string, fn: (ns: DnsNamespace, certs: IssuedCerts) => Promise<void>) {
  nsTest(SETUP, skip, name, async (ns, dir) => {
    const certs = await issueCerts(dir, [
      {
        name: "infra0",
        san: `DNS:secure.example.com,DNS:${secure(0)},IP:${sip(0)},IP:127.0.0.1`,
      },
      { name: "infra0-nodomain", san: `DNS:${secure(0)},IP:${sip(0)},IP:127.0.0.1` },
    ]);
    await fn(ns, certs);
  });
}

diagTest("diagnose srv: a good set-up exits 0 and names the matched target", async (ns) => {
  expectReport(await diagnose(ns), 0, [
    `priority 0 weight 0 ${infra(0)}.:2380 -> ${ip(0)}   <- this member`,
    `http://${infra(0)}:2380 matches target ${infra(0)}.:2380 of _etcd-server._tcp.example.com`,
    `_etcd-server-ssl._tcp.example.com: none (lookup _etcd-server-ssl._tcp.example.com ${NS_ERR})`,
    `${infra(0)}.:2379 -> ${ip(0)}   <- this member's client URL`,
    "OK: infra0 would bootstrap from these records.",
  ]);
  // The guide's IP-address variant matches the same record; the IDs are those of the cluster
  // the members build (hashed from the SRV target URLs and the token).
  const byName = await diagnose(ns, { i: 1 });
  const byIP = await diagnose(ns, { i: 1, advertise: ip(1) });
  expectReport(byIP, 0, [
    `http://${ip(1)}:2380 matches target ${infra(1)}.:2380 of _etcd-server._tcp.example.com`,
  ]);
  const ids = (r: Run) => /member ID [0-9a-f]+, cluster ID [0-9a-f]+/.exec(r.stdout)?.[0];
  assert.ok(ids(byName));
  assert.equal(ids(byIP), ids(byName));
  expectReport(await diagnose(ns, { peerPort: 2480, extra: ["--discovery-srv-name", "foo"] }), 0, [
    "--discovery-srv-name: foo",
    `matches target ${infra(0)}.:2480 of _etcd-server-foo._tcp.example.com`,
  ]);
});

diagTest("diagnose srv: a member outside the records is explained", async (ns) => {
  expectReport(await diagnose(ns, { i: 9 }), 1, [
    "PROBLEM: this member (--name infra9) is not among the SRV targets",
    `the advertised peer URL http://${infra(9)}:2380 resolves to ${ip(9)}:2380`,
    `${ip(0)}:2380 (${infra(0)})`,
    `etcd-ts would exit with: error setting up initial cluster: cannot find local etcd member ` +
    `"infra9" in SRV records`,
    `_etcd-server._tcp.example.com. 300 IN SRV 0 0 2380 ${infra(9)}.`,
    "1 problem found.",
  ]);
  // Right address, wrong port.
  expectReport(await diagnose(ns, { peerPort: 2381 }), 1, [
    `target ${infra(0)}. has this address, but its record says port 2380, not 2381`,
  ]);
});

diagTest("diagnose srv: missing records and refused flags are explained", async (ns) => {
  expectReport(await diagnose(ns, { domain: "none.example.com" }), 1, [
    "PROBLEM: no server SRV records for none.example.com",
    `etcd-ts would exit with: error setting up initial cluster: error querying DNS SRV records ` +
    `for _etcd-server-ssl lookup _etcd-server-ssl._tcp.none.example.com ${NS_ERR}; error ` +
    `querying DNS SRV records for _etcd-server lookup _etcd-server._tcp.none.example.com ` +
    NS_ERR,
    "(nameserver 127.0.0.1:53 in /etc/resolv.conf)",
  ]);
  // A suffix whose records do not exist, while the unsuffixed ones do.
  expectReport(await diagnose(ns, { extra: ["--discovery-srv-name", "bar"] }), 1, [
    "_etcd-server._tcp.example.com has records, but --discovery-srv-name bar makes members " +
    "read only _etcd-server-bar._tcp.example.com",
  ]);
  expectReport(await diagnose(ns, { listenPeer: `http://${infra(0)}:2380` }), 1, [
    `expected IP in URL for binding (http://${infra(0)}:2380)`,
    "host names belong in --initial-advertise-peer-urls",
  ]);
});

diagTest(
  "diagnose srv: peer certificates are checked against the SRV domain",
  async (ns, certs) => {
    const tls = (name: string, extra: string[] = []) => ({
      domain: "secure.example.com",
      scheme: "https" as const,
      extra: ["--peer-cert-file", certs.cert(name), "--peer-key-file", certs.key(name), ...extra],
    });
    expectReport(await diagnose(ns, tls("infra0")), 0, [
      `matches target ${secure(0)}.:2380 of _etcd-server-ssl._tcp.secure.example.com`,
      "SRV domain secure.example.com: present",
      `this member's address ${sip(0)}: IP SAN ${sip(0)}`,
    ]);
    expectReport(await diagnose(ns, tls("infra0-nodomain")), 1, [
      "SRV domain secure.example.com: missing",
      "PROBLEM: the peer certificate does not name the SRV domain secure.example.com",
      `x509: certificate is valid for ${secure(0)}, not secure.example.com`,
      `subjectAltName = DNS:secure.example.com,DNS:${secure(0)},IP:${sip(0)},IP:127.0.0.1`,
    ]);
    // With a CA file the members verify the target name instead, which the certificate has.
    expectReport(
      await diagnose(ns, tls("infra0-nodomain", ["--peer-trusted-ca-file", certs.ca])),
      0,
      [`signed by ${certs.ca}`, `SRV target ${secure(0)}: present`],
    );
    // https records but no certificate at all.
    expectReport(await diagnose(ns, { domain: "secure.example.com", scheme: "https" }), 1, [
      "PROBLEM: https peers without a peer certificate",
    ]);
  },
);
