// The guide's "DNS discovery" commands with etcd-ts members: dnsmasq serves example.com inside a
// private network namespace (tests/helpers/dns.ts) and every member runs in it on its own
// loopback address (127.0.92.10-12), exactly as the guide starts infra0..2.
import assert from "node:assert/strict";
import { type DnsNamespace, netnsSkipReason, nsTest } from "../helpers/dns.ts";
import { ETCD_TS, type Proc, stop } from "../helpers/process.ts";
import { etcdctlWith, memberList } from "../helpers/etcdctl.ts";

const skip = netnsSkipReason();
if (skip) console.log(`skipping SRV bootstrap tests: ${skip}`);

const NS_ERR = "on 127.0.0.1:53: no such host";
const ip = (i: number) => `127.0.92.${10 + i}`;
const infra = (i: number) => `infra${i}.example.com`;
const srv = (name: string, target: string, port: number) => ({ name, target, port });
const SETUP = {
  srv: [0, 1, 2].flatMap((i) => [
    srv("_etcd-server._tcp.example.com", infra(i), 2380),
    srv("_etcd-client._tcp.example.com", infra(i), 2379),
    // --discovery-srv-name foo: its own records, on other ports, so only they can work.
    srv("_etcd-server-foo._tcp.example.com", infra(i), 2480),
  ]),
  // infra9 has an address but no SRV record.
  hosts: [0, 1, 2, 9].map((i) => ({ name: infra(i), addresses: [ip(i)] })),
};

interface MemberOpts {
  /** Advertise the host name (the guide's first variant) or the IP address (its second). */
  advertise?: "host" | "ip";
  srvName?: string;
  peerPort?: number;
  clientPort?: number;
  domain?: string;
  extra?: string[];
}

/** The guide's flags for infra<i>; listen URLs are the member's IP (0.0.0.0 would collide). */
function memberFlags(i: number, dataDir: string, opts: MemberOpts = {}): string[] {
  const peerPort = opts.peerPort ?? 2380;
  const clientPort = opts.clientPort ?? 2379;
  const host = opts.advertise === "ip" ? ip(i) : infra(i);
  return [
    "--name",
    `infra${i}`,
    "--discovery-srv",
    opts.domain ?? "example.com",
    ...(opts.srvName ? ["--discovery-srv-name", opts.srvName] : []),
    "--initial-advertise-peer-urls",
    `http://${host}:${peerPort}`,
    "--initial-cluster-token",
    "etcd-cluster-1",
    "--initial-cluster-state",
    "new",
    "--advertise-client-urls",
    `http://${host}:${clientPort}`,
    "--listen-client-urls",
    `http://${ip(i)}:${clientPort}`,
    "--listen-peer-urls",
    `http://${ip(i)}:${peerPort}`,
    "--data-dir",
    `${dataDir}/infra${i}`,
    ...(opts.extra ?? []),
  ];
}

function srvTest(name: string, fn: (ns: DnsNamespace, dataDir: string) => Promise<void>) {
  nsTest(SETUP, skip, name, fn);
}

async function startCluster(ns: DnsNamespace, dataDir: string, opts: MemberOpts = {}) {
  const procs = [0, 1, 2].map((i) => ns.spawn(ETCD_TS, memberFlags(i, dataDir, opts)));
  try {
    await Promise.all(procs.map((p) => p.waitFor("ready to serve client requests", 30_000)));
  } catch (err) {
    await Promise.all(procs.map((p) => stop(p)));
    throw err;
  }
  return procs;
}

/** Runs a member that must refuse to start; returns its exit code and log. */
async function failedStart(ns: DnsNamespace, args: string[]): Promise<{ code: number; log: Proc }> {
  const p = ns.spawn(ETCD_TS, args);
  const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
  const status = await p.status;
  clearTimeout(timer);
  return { code: status.code, log: p };
}

const critical = (p: Proc) =>
  p.lines.filter((l) => / C \| /.test(l)).map((l) => l.split(" C | ")[1]);

// IDs are hashed from the SRV-derived URLs and the token, so both of the guide's variants
// (host names or IP addresses advertised) build the same cluster.
let hostVariantIds: bigint[] | undefined;

srvTest("srv bootstrap: the guide's host-name commands form one cluster", async (ns, dataDir) => {
  const procs = await startCluster(ns, dataDir);
  try {
    for (const [i, p] of procs.entries()) {
      // One record is this member, the others get temporary names.
      const got = p.lines.filter((l) => l.includes("got bootstrap from DNS for etcd-server at "));
      assert.equal(got.length, 3, p.lines.join("\n"));
      assert.ok(got.some((l) => l.endsWith(`infra${i}=http://${infra(i)}:2380`)), got.join("\n"));
    }
    const members = (await memberList(`http://${ip(0)}:2379`, { host: ns })).members;
    assert.deepEqual(
      members.map((m) => [m.name, m.peerURLs, m.clientURLs]),
      [0, 1, 2].map((i) => [
        `infra${i}`,
        [`http://${infra(i)}:2380`],
        [`http://${infra(i)}:2379`],
      ]),
    );
    // Every member sees the same cluster.
    for (const i of [1, 2]) {
      assert.deepEqual((await memberList(`http://${ip(i)}:2379`, { host: ns })).members, members);
    }
    hostVariantIds = members.map((m) => m.ID);

    // Clients find the cluster through the client records and the advertised host names.
    const inNs = etcdctlWith({ host: ns });
    const put = await inNs("", "--discovery-srv", "example.com", "put", "k", "v");
    assert.equal(put.stdout, "OK\n", put.stderr);
    const get = await inNs(`http://${infra(2)}:2379`, "get", "k", "--print-value-only");
    assert.equal(get.stdout, "v\n", get.stderr);
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
  }
});

srvTest("srv bootstrap: IP addresses advertised instead of names", async (ns, dataDir) => {
  const procs = await startCluster(ns, dataDir, { advertise: "ip" });
  try {
    const members = (await memberList(`http://${ip(1)}:2379`, { host: ns })).members;
    // Peer URLs are the SRV targets; client URLs are what each member advertises.
    assert.deepEqual(
      members.map((m) => [m.name, m.peerURLs, m.clientURLs]),
      [0, 1, 2].map((i) => [
        `infra${i}`,
        [`http://${infra(i)}:2380`],
        [`http://${ip(i)}:2379`],
      ]),
    );
    if (hostVariantIds) assert.deepEqual(members.map((m) => m.ID), hostVariantIds);
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
  }
});

srvTest("srv bootstrap: --discovery-srv-name uses the suffixed records", async (ns, dataDir) => {
  const procs = await startCluster(ns, dataDir, { srvName: "foo", peerPort: 2480 });
  try {
    for (const [i, p] of procs.entries()) {
      const own = `got bootstrap from DNS for etcd-server at infra${i}=http://${infra(i)}:2480`;
      assert.ok(p.lines.some((l) => l.endsWith(own)), p.lines.join("\n"));
    }
    const members = (await memberList(`http://${ip(2)}:2379`, { host: ns })).members;
    assert.deepEqual(
      members.map((m) => [m.name, m.peerURLs]),
      [0, 1, 2].map((i) => [`infra${i}`, [`http://${infra(i)}:2480`]]),
    );
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
  }
});

srvTest("srv bootstrap: members that cannot bootstrap exit 1", async (ns, dataDir) => {
  // A host name in a listen URL is refused before anything else (etcd 3.2+).
  const named = memberFlags(0, dataDir).map((a) =>
    a === `http://${ip(0)}:2380` ? `http://${infra(0)}:2380` : a
  );
  const listen = await failedStart(ns, named);
  assert.equal(listen.code, 1);
  assert.ok(
    listen.log.lines.some((l) =>
      l.endsWith(
        `E | etcdmain: error verifying flags, expected IP in URL for binding ` +
          `(http://${infra(0)}:2380). See 'etcd --help'.`,
      )
    ),
    listen.log.lines.join("\n"),
  );

  // infra9 resolves, but no SRV record points at it.
  const stranger = await failedStart(ns, memberFlags(9, dataDir));
  assert.equal(stranger.code, 1);
  assert.deepEqual(critical(stranger.log), [
    `etcdmain: error setting up initial cluster: cannot find local etcd member "infra9" in ` +
    `SRV records`,
  ]);

  // A domain without any record: both lookups fail, in Go's resolver words.
  const none = await failedStart(ns, memberFlags(0, dataDir, { domain: "none.example.com" }));
  assert.equal(none.code, 1);
  assert.deepEqual(critical(none.log), [
    `etcdmain: error setting up initial cluster: error querying DNS SRV records for ` +
    `_etcd-server-ssl lookup _etcd-server-ssl._tcp.none.example.com ${NS_ERR}; error ` +
    `querying DNS SRV records for _etcd-server lookup _etcd-server._tcp.none.example.com ` +
    `${NS_ERR}`,
  ]);
});

srvTest("srv: a v2 proxy learns the members from the server records", async (ns, dataDir) => {
  const procs = await startCluster(ns, dataDir, { extra: ["--enable-v2"] });
  const proxyURL = "http://127.0.92.20:2379";
  const proxy = ns.spawn(ETCD_TS, [
    "--proxy",
    "on",
    "--discovery-srv",
    "example.com",
    "--listen-client-urls",
    proxyURL,
    "--data-dir",
    `${dataDir}/proxy`,
  ]);
  try {
    // The proxy takes the peer URLs from the SRV records, then the members' client URLs.
    await proxy.waitFor("endpoints found", 30_000);
    const put = await ns.run("curl", [
      "-s",
      "-X",
      "PUT",
      `${proxyURL}/v2/keys/via-proxy`,
      "-d",
      "value=srv",
    ]);
    assert.match(put.stdout, /"action":"set"/, put.stdout + put.stderr);
    const get = await ns.run("curl", ["-s", `http://${ip(1)}:2379/v2/keys/via-proxy`]);
    assert.match(get.stdout, /"value":"srv"/, get.stdout);
  } finally {
    await stop(proxy);
    await Promise.all(procs.map((p) => stop(p)));
  }
});
