// `etcd-ts grpc-proxy start --discovery-srv`: the cluster's client URLs from SRV records served
// by dnsmasq inside a network namespace (tests/helpers/dns.ts), a real etcd 3.4 member behind
// them; etcd's own proxy run the same way for its log line and its refusal. The namespace has
// its own loopback: address block 127.0.213.x inside it.
import assert from "node:assert/strict";
import { netnsSkipReason, nsTest, srvRecord } from "../../helpers/dns.ts";
import { etcdctlWith } from "../../helpers/etcdctl.ts";
import { ETCD_TS, type Proc, singleMemberFlags, stop } from "../../helpers/process.ts";

const skip = netnsSkipReason();
if (skip) console.log(`skipping SRV grpc-proxy tests: ${skip}`);

const MEMBER = "127.0.213.10";
const SETUP = {
  srv: [srvRecord("_etcd-client._tcp.example.com", "infra0.example.com", 2379)],
  hosts: [{ name: "infra0.example.com", addresses: [MEMBER] }],
};

const discovered = (p: Proc) =>
  p.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l))
    .find((e) => e.msg === "discovered cluster from SRV");

nsTest(SETUP, skip, "grpc-proxy srv: client records name the cluster", async (ns, dataDir) => {
  const member = ns.spawn("etcd", singleMemberFlags("infra0", MEMBER, dataDir));
  await member.waitFor("ready to serve client requests", 30_000);
  const proxies: Proc[] = [];
  try {
    for (const [command, addr] of [[ETCD_TS, "127.0.213.1:23790"], ["etcd", "127.0.213.2:23790"]]) {
      const p = ns.spawn(command, [
        ...["grpc-proxy", "start", "--discovery-srv", "example.com", "--insecure-discovery"],
        ...["--listen-addr", addr, "--endpoints", "127.0.213.99:2379"],
      ]);
      proxies.push(p);
      await p.waitFor("started gRPC proxy");
    }
    const [ours, theirs] = proxies.map(discovered);
    assert.deepEqual(
      [ours.caller, ours["srv-server"], ours.endpoints],
      [theirs.caller, theirs["srv-server"], theirs.endpoints],
    );
    assert.deepEqual(ours.endpoints, ["http://infra0.example.com.:2379"]);
    // --endpoints names nothing that listens: the records are what the proxy uses.
    const etcdctl = etcdctlWith({ host: ns });
    assert.equal((await etcdctl("127.0.213.1:23790", "put", "k", "srv")).stdout, "OK\n");
    const get = await etcdctl("127.0.213.2:23790", "get", "k", "--print-value-only");
    assert.equal(get.stdout, "srv\n", get.stderr);
  } finally {
    await Promise.all(proxies.map((p) => stop(p)));
  }
  // No records at all: both print the lookup errors and exit 1.
  const runs = await Promise.all(
    [ETCD_TS, "etcd"].map((c) =>
      ns.run(c, ["grpc-proxy", "start", "--discovery-srv", "nowhere.example.com"])
    ),
  );
  assert.deepEqual(runs.map((r) => r.code), [1, 1]);
  assert.equal(runs[0].stderr.split("\n").at(-2), runs[1].stderr.split("\n").at(-2));
  assert.match(runs[0].stderr, /dns lookup errors/);
});
