// The gateway fed by `--discovery-srv` client records, inside a network namespace with dnsmasq
// (tests/helpers/dns.ts) and a real etcd 3.4 member on 127.0.90.10. Start-up failures are
// compared with etcd's own gateway run the same way.
import assert from "node:assert/strict";
import { type DnsNamespace, netnsSkipReason, nsTest, srvRecord } from "../../helpers/dns.ts";
import { etcdctlWith } from "../../helpers/etcdctl.ts";
import { ETCD_TS, type Proc, type Run, singleMemberFlags, stop } from "../../helpers/process.ts";

const skip = netnsSkipReason();
if (skip) console.log(`skipping SRV gateway tests: ${skip}`);

const MEMBER = "127.0.90.10";
const SETUP = {
  srv: [
    // infra1 has nothing listening, but with weights set its worse priority means it is never
    // picked (with weight 0 etcd's round robin would walk every record, whatever its priority).
    srvRecord("_etcd-client._tcp.example.com", "infra0.example.com", 2379, 0, 10),
    srvRecord("_etcd-client._tcp.example.com", "infra1.example.com", 2379, 1, 10),
    srvRecord("_etcd-client-ssl-gw._tcp.example.com", "infra0.example.com", 2379),
  ],
  hosts: [0, 1].map((i) => ({ name: `infra${i}.example.com`, addresses: [`127.0.90.1${i}`] })),
};

const logged = (p: Proc, msg: string) =>
  p.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((e) => e.msg === msg);

/** SETUP's namespace with a real etcd 3.4 member on MEMBER, as a test. */
function srvTest(name: string, fn: (ns: DnsNamespace) => Promise<void>) {
  nsTest(SETUP, skip, name, async (ns, dataDir) => {
    const member = ns.spawn("etcd", singleMemberFlags("infra0", MEMBER, dataDir));
    await member.waitFor("ready to serve client requests", 30_000);
    await fn(ns);
  });
}

async function startGateway(ns: DnsNamespace, args: string[]): Promise<Proc> {
  const gw = ns.spawn(ETCD_TS, ["gateway", "start", "--retry-delay", "1s", ...args]);
  await gw.waitFor("ready to proxy client requests");
  return gw;
}

async function putGet(ns: DnsNamespace, endpoint: string, key: string): Promise<void> {
  const etcdctl = etcdctlWith({ host: ns });
  const put = await etcdctl(endpoint, "put", key, "v");
  assert.equal(put.stdout, "OK\n", put.stderr);
  const get = await etcdctl(endpoint, "get", key, "--print-value-only");
  assert.equal(get.stdout, "v\n", get.stderr);
}

srvTest("gateway srv: client records feed the proxy", async (ns) => {
  const gw = await startGateway(ns, [
    "--discovery-srv",
    "example.com",
    "--insecure-discovery",
    "--listen-addr",
    "127.0.90.1:23790",
  ]);
  try {
    const [found] = logged(gw, "discovered cluster from SRV");
    assert.equal(found.caller, "etcdmain/util.go:39");
    assert.equal(found["srv-server"], "example.com");
    assert.deepEqual(found.endpoints, [
      "http://infra0.example.com.:2379",
      "http://infra1.example.com.:2379",
    ]);
    const [ready] = logged(gw, "ready to proxy client requests");
    assert.deepEqual(ready.endpoints, ["infra0.example.com.:2379", "infra1.example.com.:2379"]);
    for (let i = 0; i < 4; i++) await putGet(ns, "127.0.90.1:23790", `k${i}`);
    assert.deepEqual(logged(gw, "deactivated endpoint"), [], "priority 1 is never picked");
  } finally {
    await stop(gw);
  }
});

srvTest("gateway srv: validation drops http records; -ssl-<name> records pass", async (ns) => {
  // Without --insecure-discovery the http records are dropped and --endpoints is used.
  const fallback = await startGateway(ns, [
    "--discovery-srv",
    "example.com",
    "--endpoints",
    `${MEMBER}:2379`,
    "--listen-addr",
    "127.0.90.1:23790",
  ]);
  try {
    const [warn] = logged(fallback, "failed to validate discovered endpoints");
    assert.equal(warn.level, "warn");
    assert.equal(warn.caller, "etcdmain/util.go:70");
    assert.deepEqual(warn.endpoints, []);
    assert.equal(
      warn.error,
      `"http://infra0.example.com.:2379" is insecure,"http://infra1.example.com.:2379" is insecure`,
    );
    const [ready] = logged(fallback, "ready to proxy client requests");
    assert.deepEqual(ready.endpoints, [`${MEMBER}:2379`]);
    await putGet(ns, "127.0.90.1:23790", "fallback");
  } finally {
    await stop(fallback);
  }
  // --discovery-srv-name gw: `_etcd-client-ssl-gw._tcp`; etcd's check only dials the target.
  const named = await startGateway(ns, [
    "--discovery-srv",
    "example.com",
    "--discovery-srv-name",
    "gw",
    "--listen-addr",
    "127.0.90.2:23790",
  ]);
  try {
    const [ok] = logged(named, "using validated discovered SRV endpoints");
    assert.equal(ok.caller, "etcdmain/util.go:81");
    assert.deepEqual(ok.endpoints, ["https://infra0.example.com.:2379"]);
    await putGet(ns, "127.0.90.2:23790", "named");
  } finally {
    await stop(named);
  }
});

srvTest("gateway srv: start-up failures match etcd's gateway", async (ns) => {
  const cases: [string[], string, string][] = [
    [
      ["--discovery-srv", "none.example.com"],
      "",
      "dns lookup errors: lookup _etcd-client-ssl._tcp.none.example.com on 127.0.0.1:53: no " +
      "such host and lookup _etcd-client._tcp.none.example.com on 127.0.0.1:53: no such host\n",
    ],
    [
      ["--listen-addr", "nosuch.example.com:23790"],
      "failed to resolve listen host: nosuch.example.com\n",
      "",
    ],
    [
      ["--endpoints", "nosuch.example.com:2379", "--listen-addr", "127.0.90.1:23790"],
      "failed to resolve endpoint host: nosuch.example.com\n",
      "",
    ],
    [
      ["--discovery-srv", "example.com", "--insecure-discovery", "--listen-addr", `${MEMBER}:2379`],
      `SRV or endpoint (infra0.example.com.:2379->${MEMBER}:2379) should not resolve to the ` +
      `gateway listen addr (${MEMBER}:2379)\n`,
      "",
    ],
  ];
  const withEtcd = (await ns.run("sh", ["-c", "command -v etcd"])).code === 0;
  for (const [args, stdout, stderr] of cases) {
    const ours = await ns.run(ETCD_TS, ["gateway", "start", ...args]);
    const only = (
      r: Run,
    ) => [r.code, r.stdout, r.stderr.split("\n").filter((l) => !l.startsWith("{")).join("\n")];
    assert.deepEqual(only(ours), [1, stdout, stderr], args.join(" "));
    if (withEtcd) {
      const theirs = await ns.run("etcd", ["gateway", "start", ...args]);
      assert.deepEqual(only(ours), only(theirs), `etcd gateway start ${args.join(" ")}`);
    }
  }
});
