// diagnoseSrv with an in-memory resolver: the explanations without a DNS server.
import assert from "node:assert/strict";
import { DnsFailure, type DnsResolver } from "../../src/discovery/mod.ts";
import { diagnoseSrv, type SrvDiagnosisInput } from "../../src/diagnose/mod.ts";

const SRV: Record<string, { target: string; port: number }[]> = {
  "_etcd-server._tcp.example.com": [0, 1, 2].map((i) => ({
    target: `infra${i}.example.com.`,
    port: 2380,
  })),
  "_etcd-server._tcp.lost.example.com": [{ target: "gone.example.com.", port: 2380 }],
};
const HOSTS: Record<string, string[]> = {
  "infra0.example.com": ["10.0.1.10"],
  "infra1.example.com": ["10.0.1.11"],
  "infra2.example.com": ["10.0.1.12"],
  "infra9.example.com": ["10.0.1.19"],
};

const resolver: DnsResolver = {
  server: () => "192.0.2.53:53",
  srv: (name) => {
    const found = SRV[name];
    if (!found) return Promise.reject(new DnsFailure("no such host"));
    return Promise.resolve(found.map((r) => ({ ...r, priority: 0, weight: 0 })));
  },
  addresses: (name) => {
    const found = HOSTS[name.replace(/\.$/, "")];
    return found ? Promise.resolve(found) : Promise.reject(new DnsFailure("no such host"));
  },
};

function input(name: string, domain = "example.com", peer = `http://${name}.example.com:2380`) {
  return {
    domain,
    srvName: "",
    name,
    advertisePeerUrls: [peer],
    advertiseClientUrls: [`http://${name}.example.com:2379`],
    listenPeerUrls: ["http://0.0.0.0:2380"],
    initialClusterToken: "etcd-cluster-1",
    peerTLS: { certFile: "", trustedCAFile: "", autoTLS: false },
    clientTLS: { certFile: "", autoTLS: false },
  } satisfies SrvDiagnosisInput;
}

const deps = { resolver, readFile: () => "" };

Deno.test("diagnoseSrv: the matched record, the initial cluster and the IDs", async () => {
  const report = await diagnoseSrv(input("infra1"), deps);
  assert.equal(report.ok, true);
  const text = report.render("ok");
  assert.match(text, /infra1\.example\.com\.:2380 -> 10\.0\.1\.11 {3}<- this member/);
  assert.match(text, /member ID [0-9a-f]+, cluster ID [0-9a-f]+ \(token etcd-cluster-1\)/);
  // Client records are missing: a warning, not a failure.
  assert.match(text, /WARNING: no client SRV records for example\.com/);
  // The IP-address form of the same member matches the same record.
  const byIP = await diagnoseSrv(input("infra1", "example.com", "http://10.0.1.11:2380"), deps);
  assert.equal(byIP.ok, true);
});

Deno.test("diagnoseSrv: not a member, nothing found, unresolvable target", async () => {
  const stranger = await diagnoseSrv(input("infra9"), deps);
  assert.deepEqual(stranger.problems.map((p) => p.title), [
    "this member (--name infra9) is not among the SRV targets",
  ]);
  assert.ok(stranger.problems[0].detail.includes(
    'etcd-ts would exit with: error setting up initial cluster: cannot find local etcd member "infra9" in SRV records',
  ));
  const none = await diagnoseSrv(input("infra0", "none.example.com"), deps);
  assert.equal(none.problems[0].title, "no server SRV records for none.example.com");
  assert.ok(none.problems[0].detail.some((d) => d.includes("on 192.0.2.53:53: no such host")));
  const lost = await diagnoseSrv(input("infra0", "lost.example.com"), deps);
  assert.equal(lost.problems[0].title, "SRV target gone.example.com. does not resolve");
  assert.match(lost.render("ok"), /1 problem found\.\n$/);
});
