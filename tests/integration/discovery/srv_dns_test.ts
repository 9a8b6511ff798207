// DNS SRV discovery against a real DNS server: dnsmasq in a private network namespace, probes
// run inside it through the system resolver (resolv.conf and hosts of the namespace).
import assert from "node:assert/strict";
import { type DnsNamespace, netnsSkipReason, nsTest, srvRecord } from "../../helpers/dns.ts";
import type { ProbeCall, ProbeResult } from "../../helpers/srv_probe.ts";

const skip = netnsSkipReason();
if (skip) console.log(`skipping DNS SRV tests: ${skip}`);

const PROBE = new URL("../../helpers/srv_probe.ts", import.meta.url).pathname;
const CONFIG = new URL("../../../deno.json", import.meta.url).pathname;
const NS_ERR = "on 127.0.0.1:53: no such host";

const infra = (i: number) => `infra${i}.example.com`;
const serverSrv = (svc: string, domain: string, hosts: number[], port = 2380) =>
  hosts.map((i) => srvRecord(`_${svc}._tcp.${domain}`, infra(i), port));

const SETUP = {
  srv: [
    ...serverSrv("etcd-server-ssl", "ssl.example.com", [0, 1, 2]),
    ...serverSrv("etcd-server", "plain.example.com", [0, 1, 2]),
    ...serverSrv("etcd-server-ssl", "both.example.com", [0]),
    ...serverSrv("etcd-server", "both.example.com", [1, 2]),
    ...serverSrv("etcd-server-ssl-foo", "named.example.com", [0, 1, 2]),
    ...serverSrv("etcd-server-ssl", "named.example.com", [5]),
    ...serverSrv("etcd-server", "ghost.example.com", [0, 9]),
    ...serverSrv("etcd-server", "ghostonly.example.com", [9]),
    ...serverSrv("etcd-server-ssl", "mismatch.example.com", [0]),
    srvRecord("_etcd-client-ssl._tcp.cli.example.com", infra(0), 2379),
    srvRecord("_etcd-client._tcp.cli.example.com", infra(1), 2379),
    srvRecord("_etcd-client-bar._tcp.cli.example.com", infra(2), 2379),
    srvRecord("_etcd-client._tcp.prio.example.com", "a.example.com", 2379, 1, 0),
    srvRecord("_etcd-client._tcp.prio.example.com", "b.example.com", 2379, 0, 10),
    srvRecord("_etcd-client._tcp.prio.example.com", "c.example.com", 2379, 0, 20),
    srvRecord("_etcd-client._tcp.prio.example.com", "d.example.com", 2379, 0, 0),
  ],
  hosts: [0, 1, 2, 5].map((i) => ({ name: infra(i), addresses: [`127.0.90.${10 + i}`] })),
  etcHosts: "127.0.0.1 localhost\n127.0.90.11 alias1.example.com\n",
};

async function probe(ns: DnsNamespace, calls: ProbeCall[]): Promise<ProbeResult[]> {
  const r = await ns.run("deno", ["run", "-A", "--quiet", "--config", CONFIG, PROBE], {
    stdin: JSON.stringify(calls),
  });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const value = (r: ProbeResult) => {
  assert.ok("value" in r, `expected a value, got ${JSON.stringify(r)}`);
  return r.value as Record<string, unknown>;
};
const error = (r: ProbeResult) => {
  assert.ok("error" in r, `expected an error, got ${JSON.stringify(r)}`);
  return r;
};
const cluster = (r: ProbeResult) => (value(r).initialCluster as string).split(",").sort();

/**
 * The local entry is named after the member; the others get "0", "1", ... in the order the
 * records came back (equal-weight records come back in any order).
 */
function assertCluster(r: ProbeResult, local: string, localUrl: string, others: string[]) {
  const entries = value(r).entries as { name: string; url: string }[];
  assert.deepEqual(entries.filter((e) => e.name === local), [{ name: local, url: localUrl }]);
  const rest = entries.filter((e) => e.name !== local);
  assert.deepEqual(rest.map((e) => e.name), others.map((_, i) => String(i)));
  assert.deepEqual(rest.map((e) => e.url).sort(), [...others].sort());
  assert.equal(value(r).initialCluster, entries.map((e) => `${e.name}=${e.url}`).join(","));
}

function dnsTest(name: string, fn: (ns: DnsNamespace) => Promise<void>) {
  nsTest(SETUP, skip, name, (ns) => fn(ns));
}

dnsTest("srv: server records build the initial cluster", async (ns) => {
  const member = (domain: string, adv: string, srvName = "") => ({
    fn: "server" as const,
    domain,
    srvName,
    name: "infra1",
    advertisePeerUrls: [adv],
  });
  const [ssl, plain, byHost, byHostsFile, both, named, v2proxy, ghost] = await probe(ns, [
    member("ssl.example.com", "https://127.0.90.11:2380"),
    member("plain.example.com", "http://127.0.90.11:2380"),
    member("plain.example.com", "http://infra1.example.com:2380"),
    member("plain.example.com", "http://alias1.example.com:2380"),
    member("both.example.com", "http://127.0.90.11:2380"),
    member("named.example.com", "https://127.0.90.11:2380", "foo"),
    { ...member("ghost.example.com", "http://127.0.90.11:2380"), requireLocalMember: false },
    member("ghost.example.com", "http://127.0.90.10:2380"),
  ]);
  const url = (scheme: string, i: number) => `${scheme}://${infra(i)}:2380`;
  assertCluster(ssl, "infra1", url("https", 1), [url("https", 0), url("https", 2)]);
  for (const r of [plain, byHost, byHostsFile]) {
    // An advertised host name is resolved, through /etc/hosts too.
    assertCluster(r, "infra1", url("http", 1), [url("http", 0), url("http", 2)]);
  }
  // ssl entries first, then plain ones; temporary names count per service.
  const bothEntries = value(both).entries as { name: string; url: string }[];
  assert.deepEqual(bothEntries[0], { name: "0", url: url("https", 0) });
  assert.deepEqual(
    bothEntries.slice(1).map((e) => `${e.name}=${e.url}`).sort(),
    [`0=${url("http", 2)}`, `infra1=${url("http", 1)}`],
  );
  assert.equal(value(both).warning, undefined);
  // One service without records is only a warning when the other has some.
  assert.equal(
    value(plain).warning,
    `error querying DNS SRV records for _etcd-server-ssl lookup ` +
      `_etcd-server-ssl._tcp.plain.example.com ${NS_ERR}`,
  );
  // --discovery-srv-name foo: only the -foo records count.
  assert.match(
    value(named).warning as string,
    /lookup _etcd-server-foo\._tcp\.named\.example\.com /,
  );
  assertCluster(named, "infra1", url("https", 1), [url("https", 0), url("https", 2)]);
  // A target without an address is skipped.
  assert.deepEqual(cluster(v2proxy), ["0=http://infra0.example.com:2380"]);
  // The local member is whoever resolves to the advertised address, whatever the record says.
  assert.deepEqual(cluster(ghost), ["infra1=http://infra0.example.com:2380"]);
});

dnsTest("srv: server record failures carry etcd's messages", async (ns) => {
  const member = (domain: string, adv: string) => ({
    fn: "server" as const,
    domain,
    name: "infra0",
    advertisePeerUrls: [adv],
  });
  const [none, notMember, ghostOnly, mismatch, badAdvertise] = await probe(ns, [
    member("none.example.com", "http://127.0.90.10:2380"),
    member("plain.example.com", "http://127.0.90.19:2380"),
    member("ghostonly.example.com", "http://127.0.90.10:2380"),
    member("mismatch.example.com", "http://127.0.90.10:2380"),
    member("plain.example.com", "http://nohost.example.com:2380"),
  ]);
  assert.deepEqual(error(none), {
    error: `error querying DNS SRV records for _etcd-server-ssl lookup ` +
      `_etcd-server-ssl._tcp.none.example.com ${NS_ERR}; error querying DNS SRV records for ` +
      `_etcd-server lookup _etcd-server._tcp.none.example.com ${NS_ERR}`,
    kind: "lookup",
  });
  assert.deepEqual(error(notMember), {
    error: `cannot find local etcd member "infra0" in SRV records`,
    kind: "local-member",
  });
  assert.equal(
    error(ghostOnly).error,
    `error querying DNS SRV records for _etcd-server-ssl lookup ` +
      `_etcd-server-ssl._tcp.ghostonly.example.com ${NS_ERR}; error querying DNS SRV records ` +
      `for _etcd-server lookup infra9.example.com. ${NS_ERR}`,
  );
  assert.equal(
    error(mismatch).error,
    `error querying DNS SRV records for _etcd-server-ssl bootstrap at ` +
      `https://infra0.example.com:2380 from DNS for etcd-server-ssl has scheme mismatch with ` +
      `expected peer http://127.0.90.10:2380; error querying DNS SRV records for _etcd-server ` +
      `lookup _etcd-server._tcp.mismatch.example.com ${NS_ERR}`,
  );
  assert.equal(error(badAdvertise).error, `lookup nohost.example.com ${NS_ERR}`);
});

dnsTest("srv: client records, suffix, priority and weight", async (ns) => {
  const [cli, named, low, high, none] = await probe(ns, [
    { fn: "client", domain: "cli.example.com" },
    { fn: "client", domain: "cli.example.com", srvName: "bar" },
    { fn: "client", domain: "prio.example.com", random: 0 },
    { fn: "client", domain: "prio.example.com", random: 0.999 },
    { fn: "client", domain: "none.example.com" },
  ]);
  assert.deepEqual(value(cli).endpoints, [
    "https://infra0.example.com.:2379",
    "http://infra1.example.com.:2379",
  ]);
  assert.deepEqual(value(named).endpoints, ["http://infra2.example.com.:2379"]);
  // Priority 0 before priority 1; within priority 0 the weighted shuffle, driven by the draw.
  const targets = (r: ProbeResult) =>
    (value(r).srvs as { target: string }[]).map((s) => s.target.split(".")[0]);
  assert.deepEqual(targets(low), ["b", "c", "d", "a"]);
  assert.deepEqual(targets(high), ["c", "b", "d", "a"]);
  assert.equal(
    error(none).error,
    `dns lookup errors: lookup _etcd-client-ssl._tcp.none.example.com ${NS_ERR} and ` +
      `lookup _etcd-client._tcp.none.example.com ${NS_ERR}`,
  );
});
