// SRV discovery logic against a fake resolver: ordering, naming, and etcd's error texts.
import assert from "node:assert/strict";
import {
  DnsFailure,
  type DnsResolver,
  logSrvWarning,
  nameserverFrom,
  orderSrvRecords,
  resolveTcpAddr,
  splitHostPort,
  srvClientEndpoints,
  type SrvRecord,
  srvServerCluster,
  srvServiceName,
} from "../../src/discovery/srv.ts";
import { testLog } from "../helpers/log.ts";

const rec = (target: string, port: number, priority = 0, weight = 0): SrvRecord => ({
  target,
  port,
  priority,
  weight,
});

function fakeResolver(
  srv: Record<string, SrvRecord[] | string>,
  hosts: Record<string, string[]>,
): DnsResolver {
  return {
    server: () => "192.0.2.53:53",
    srv: (name) => {
      const r = srv[name];
      if (r === undefined) return Promise.reject(new DnsFailure("no such host"));
      if (typeof r === "string") return Promise.reject(new DnsFailure(r));
      return Promise.resolve(r);
    },
    addresses: (name) => {
      const a = hosts[name.replace(/\.$/, "")];
      return a ? Promise.resolve(a) : Promise.reject(new DnsFailure("no such host"));
    },
  };
}

/** A fixed sequence of draws, repeating. */
const draws = (...xs: number[]) => {
  let i = 0;
  return () => xs[i++ % xs.length];
};

Deno.test("srv order: priority ascending, weighted shuffle within a priority", () => {
  const records = [
    rec("a", 1, 1, 0),
    rec("b", 1, 0, 10),
    rec("c", 1, 0, 20),
    rec("d", 1, 0, 0),
    rec("e", 1, 2, 5),
  ];
  const names = (rs: SrvRecord[]) => rs.map((r) => r.target).join("");
  // Draw 0 lands on the lightest non-zero weight first; draw ~1 on the heaviest.
  assert.equal(names(orderSrvRecords(records, () => 0)), "bcdae");
  assert.equal(names(orderSrvRecords(records, () => 0.999)), "cbdae");
  // 30 total: a draw of 0.4 -> 12 passes b (10) and lands on c.
  assert.equal(names(orderSrvRecords(records, draws(0.4, 0))), "cbdae");
  // The input is not modified.
  assert.equal(names(records), "abcde");
});

Deno.test("srv order: all-zero weights keep DNS order; weights share out first places", () => {
  const zero = [rec("x", 1), rec("y", 1), rec("z", 1)];
  assert.deepEqual(orderSrvRecords(zero, () => 0.5).map((r) => r.target), ["x", "y", "z"]);
  // Weights 1 and 3: the heavier one comes first about three times in four.
  let seed = 42;
  const lcg = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let heavyFirst = 0;
  for (let i = 0; i < 4000; i++) {
    if (orderSrvRecords([rec("l", 1, 0, 1), rec("h", 1, 0, 3)], lcg)[0].target === "h") {
      heavyFirst++;
    }
  }
  assert.ok(Math.abs(heavyFirst / 4000 - 0.75) < 0.03, `heavy first ${heavyFirst}/4000`);
});

Deno.test("srv service names", () => {
  assert.equal(srvServiceName("etcd-server", "", "https"), "etcd-server-ssl");
  assert.equal(srvServiceName("etcd-server", "", "http"), "etcd-server");
  assert.equal(srvServiceName("etcd-server", "foo", "https"), "etcd-server-ssl-foo");
  assert.equal(srvServiceName("etcd-client", "foo", "http"), "etcd-client-foo");
});

const HOSTS = {
  "infra0.example.com": ["10.0.1.10"],
  "infra1.example.com": ["10.0.1.11", "fd00::11"],
  "infra2.example.com": ["10.0.1.12"],
  "v6only.example.com": ["fd00::99"],
};
const SSL = [
  rec("infra0.example.com.", 2380),
  rec("infra1.example.com.", 2380),
  rec("infra2.example.com.", 2380),
];

Deno.test("srv server cluster: the guide's example", async () => {
  const resolver = fakeResolver({ "_etcd-server-ssl._tcp.example.com": SSL }, HOSTS);
  const c = await srvServerCluster("example.com", "", {
    name: "infra1",
    advertisePeerUrls: ["https://10.0.1.11:2380"],
    resolver,
  });
  assert.equal(
    c.initialCluster,
    "0=https://infra0.example.com:2380,infra1=https://infra1.example.com:2380," +
      "1=https://infra2.example.com:2380",
  );
  assert.deepEqual(c.lookups.map((l) => [l.service, l.scheme, l.entries.length]), [
    ["etcd-server-ssl", "https", 3],
    ["etcd-server", "http", 0],
  ]);
  assert.equal(
    c.warning,
    "error querying DNS SRV records for _etcd-server lookup _etcd-server._tcp.example.com " +
      "on 192.0.2.53:53: no such host",
  );
  const { log, lines } = testLog();
  logSrvWarning(log, c);
  assert.equal(lines.length, 1);
  assert.match(
    lines[0],
    / W \| etcdmain: couldn't resolve during SRV discovery \(error querying DNS SRV records for _etcd-server lookup .* no such host\)$/,
  );
  // The same records seen from a member advertising its host name.
  const byName = await srvServerCluster("example.com", "", {
    name: "infra2",
    advertisePeerUrls: [new URL("https://infra2.example.com:2380")],
    resolver,
  });
  assert.equal(
    byName.initialCluster,
    "0=https://infra0.example.com:2380,1=https://infra1.example.com:2380," +
      "infra2=https://infra2.example.com:2380",
  );
});

Deno.test("srv server cluster: ports, plain records, suffix, skipped targets", async () => {
  const resolver = fakeResolver({
    "_etcd-server._tcp.example.com": [
      rec("infra0.example.com.", 2380),
      rec("ghost.example.com.", 2380),
      rec("infra1.example.com.", 12380),
    ],
    "_etcd-server-ssl-foo._tcp.example.com": [rec("v6only.example.com.", 2380)],
  }, HOSTS);
  // Same IP, other port: not this member.
  const c = await srvServerCluster("example.com", "", {
    name: "infra1",
    advertisePeerUrls: ["http://10.0.1.11:2380"],
    requireLocalMember: false,
    resolver,
  });
  assert.equal(
    c.initialCluster,
    "0=http://infra0.example.com:2380,1=http://infra1.example.com:12380",
  );
  const v6 = await srvServerCluster("example.com", "foo", {
    name: "m",
    advertisePeerUrls: ["https://[fd00::99]:2380"],
    resolver,
  });
  assert.equal(v6.initialCluster, "m=https://v6only.example.com:2380");
});

Deno.test("srv server cluster: etcd's failure messages", async () => {
  const ns = "on 192.0.2.53:53";
  const resolver = fakeResolver({
    "_etcd-server-ssl._tcp.example.com": SSL,
    "_etcd-server._tcp.refused.example.com": "server misbehaving",
    "_etcd-server-ssl._tcp.ghost.example.com": [rec("ghost.example.com.", 2380)],
    "_etcd-server-ssl._tcp.mm.example.com": [rec("infra0.example.com.", 2380)],
  }, HOSTS);
  const fails = async (domain: string, adv: string, name = "infra0") => {
    try {
      await srvServerCluster(domain, "", { name, advertisePeerUrls: [adv], resolver });
    } catch (err) {
      return [(err as Error).message, (err as { kind: string }).kind];
    }
    assert.fail("expected a failure");
  };
  assert.deepEqual(await fails("example.com", "https://10.0.9.9:2380"), [
    `cannot find local etcd member "infra0" in SRV records`,
    "local-member",
  ]);
  // The own record under the wrong scheme is dropped; the others still make a cluster.
  assert.deepEqual(await fails("example.com", "http://10.0.1.10:2380"), [
    `cannot find local etcd member "infra0" in SRV records`,
    "local-member",
  ]);
  assert.deepEqual(await fails("mm.example.com", "http://10.0.1.10:2380"), [
    "error querying DNS SRV records for _etcd-server-ssl bootstrap at " +
    "https://infra0.example.com:2380 from DNS for etcd-server-ssl has scheme mismatch with " +
    "expected peer http://10.0.1.10:2380; error querying DNS SRV records for _etcd-server " +
    `lookup _etcd-server._tcp.mm.example.com ${ns}: no such host`,
    "lookup",
  ]);
  assert.deepEqual(await fails("refused.example.com", "http://10.0.1.10:2380"), [
    "error querying DNS SRV records for _etcd-server-ssl lookup " +
    `_etcd-server-ssl._tcp.refused.example.com ${ns}: no such host; error querying DNS SRV ` +
    `records for _etcd-server lookup _etcd-server._tcp.refused.example.com ${ns}: ` +
    "server misbehaving",
    "lookup",
  ]);
  assert.equal(
    (await fails("ghost.example.com", "https://10.0.1.10:2380"))[0],
    `error querying DNS SRV records for _etcd-server-ssl lookup ghost.example.com. ${ns}: ` +
      "no such host; error querying DNS SRV records for _etcd-server lookup " +
      `_etcd-server._tcp.ghost.example.com ${ns}: no such host`,
  );
  assert.deepEqual(await fails("example.com", "https://nohost.example.com:2380"), [
    `lookup nohost.example.com ${ns}: no such host`,
    "lookup",
  ]);
});

Deno.test("srv client endpoints: ssl then plain, trailing dots kept", async () => {
  const resolver = fakeResolver({
    "_etcd-client-ssl._tcp.example.com": [rec("infra0.example.com.", 2379)],
    "_etcd-client._tcp.example.com": [rec("infra1.example.com.", 2379, 0, 5)],
    "_etcd-client-bar._tcp.example.com": [rec("infra2.example.com.", 2379)],
  }, HOSTS);
  const c = await srvClientEndpoints("example.com", "", { resolver });
  assert.deepEqual(c.endpoints, [
    "https://infra0.example.com.:2379",
    "http://infra1.example.com.:2379",
  ]);
  assert.deepEqual(c.srvs.map((s) => s.weight), [0, 5]);
  const bar = await srvClientEndpoints("example.com", "bar", { resolver });
  assert.deepEqual(bar.endpoints, ["http://infra2.example.com.:2379"]);
  await assert.rejects(
    srvClientEndpoints("none.example.com", "", { resolver }),
    {
      message: "dns lookup errors: lookup _etcd-client-ssl._tcp.none.example.com on " +
        "192.0.2.53:53: no such host and lookup _etcd-client._tcp.none.example.com on " +
        "192.0.2.53:53: no such host",
    },
  );
});

Deno.test("resolver helpers: resolv.conf, host:port, TCP addresses", async () => {
  assert.equal(nameserverFrom("# x\nsearch lan\nnameserver 10.255.255.53\n"), "10.255.255.53:53");
  assert.equal(nameserverFrom("nameserver ::1\nnameserver 127.0.0.1\n"), "[::1]:53");
  assert.equal(nameserverFrom(""), "127.0.0.1:53");
  assert.deepEqual(splitHostPort("[::1]:2379"), { host: "::1", port: "2379" });
  assert.deepEqual(splitHostPort(":2379"), { host: "", port: "2379" });
  assert.throws(() => splitHostPort("127.0.0.1"), {
    message: "address 127.0.0.1: missing port in address",
  });
  assert.throws(() => splitHostPort("::1:2379"), {
    message: "address ::1:2379: too many colons in address",
  });
  const resolver = fakeResolver({}, HOSTS);
  assert.equal(await resolveTcpAddr(resolver, "infra1.example.com:2380"), "10.0.1.11:2380");
  assert.equal(await resolveTcpAddr(resolver, "v6only.example.com:2380"), "[fd00::99]:2380");
  assert.equal(await resolveTcpAddr(resolver, "[fd00::1]:02380"), "[fd00::1]:2380");
  await assert.rejects(resolveTcpAddr(resolver, "nope.example.com:1"), {
    message: "lookup nope.example.com on 192.0.2.53:53: no such host",
  });
});
