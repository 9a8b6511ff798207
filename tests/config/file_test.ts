import assert from "node:assert/strict";
import { parseServerArgs } from "../../src/config/mod.ts";
import { fail, run, urls, verifyError } from "../helpers/config.ts";

const GOOD = `
name: infra0
data-dir: /var/lib/etcd
heartbeat-interval: 200
election-timeout: 2000
listen-peer-urls: http://127.0.5.1:2380
listen-client-urls: http://127.0.5.1:2379,http://127.0.0.1:2379
initial-advertise-peer-urls: http://127.0.5.1:2380
advertise-client-urls: http://127.0.5.1:2379
initial-cluster: infra0=http://127.0.5.1:2380,infra1=http://127.0.5.2:2380
initial-cluster-state: existing
initial-cluster-token: tok
enable-v2: true
auto-compaction-retention: "1"
cors: "http://b.example:80,http://a.example:8080"
cipher-suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
log-outputs: [stderr]
grpc-keepalive-min-time: 10000000000
proxy-refresh-interval: 1000
unknown-key: whatever
client-transport-security:
  cert-file: c.pem
  key-file: k.pem
  client-cert-auth: true
  trusted-ca-file: ca.pem
  auto-tls: false
peer-transport-security:
  cert-file: pc.pem
  key-file: pk.pem
  client-cert-auth: true
  trusted-ca-file: pca.pem
  auto-tls: true
  allowed-cn: member
`;

Deno.test("config file: keys are flag names, TLS nested, proxy keys at top level", async () => {
  const c = await run(["--config-file", "c.yml"], {}, GOOD);
  assert.equal(c.name, "infra0");
  assert.equal(c.dataDir, "/var/lib/etcd");
  assert.equal(c.heartbeatInterval, 200);
  assert.equal(c.electionTimeout, 2000);
  assert.deepEqual(urls(c.listenClientUrls), ["http://127.0.0.1:2379", "http://127.0.5.1:2379"]);
  assert.deepEqual(c.initialCluster.map((m) => m.name), ["infra0", "infra1"]);
  assert.equal(c.initialClusterState, "existing");
  assert.equal(c.initialClusterToken, "tok");
  assert.equal(c.enableV2, true);
  assert.equal(c.compactionRetention, 3_600_000);
  assert.deepEqual(c.cors, ["http://a.example:8080", "http://b.example:80"]);
  assert.deepEqual(c.cipherSuites, ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]);
  assert.deepEqual(c.logOutputs, ["stderr"]);
  assert.equal(c.grpcKeepaliveMinTime, 10_000);
  assert.equal(c.proxyRefreshInterval, 1000);
  assert.equal(c.clientTLS.certFile, "c.pem");
  assert.equal(c.clientTLS.clientCertAuth, true);
  assert.equal(c.clientTLS.trustedCAFile, "ca.pem");
  assert.equal(c.peerTLS.keyFile, "pk.pem");
  assert.equal(c.peerTLS.autoTLS, true);
  assert.equal(c.peerTLS.allowedCN, "member");
  assert.equal(c.configFile, "c.yml");
  assert.ok(c.explicit.has("name") && c.explicit.has("peer-cert-file"));
});

Deno.test("config file: other flags and ETCD_* variables are ignored, without conflict checks", async () => {
  const c = await run(["--config-file=c.yml", "--name", "flag", "--heartbeat-interval=1"], {
    ETCD_NAME: "env",
    ETCD_ENABLE_V2: "true",
  }, "name: file\n");
  assert.equal(c.name, "file");
  assert.equal(c.heartbeatInterval, 100);
  assert.equal(c.enableV2, false);
  const out = await parseServerArgs(["--config-file", "c.yml"], {}, () => "name: x\n");
  if (out.action !== "run") throw new Error(out.action);
  assert.ok(out.notices.some((n) =>
    n.text ===
      'Loading server configuration from "c.yml". Other configuration command line flags and environment variables will be ignored if provided.'
  ));
});

Deno.test("config file: listen-client-urls without advertise is fine; defaults and empty file", async () => {
  const c = await run(
    ["--config-file", "c.yml"],
    {},
    "listen-client-urls: http://127.0.0.1:2379\n",
  );
  assert.deepEqual(urls(c.advertiseClientUrls), ["http://localhost:2379"]);
  assert.equal((await run(["--config-file", "c.yml"], {}, "")).name, "default");
  assert.equal(
    (await run(["--config-file", "c.yml"], {}, "# nothing\n")).initialClusterState,
    "new",
  );
});

Deno.test("config file: discovery clears the default initial cluster", async () => {
  const c = await run(
    ["--config-file", "c.yml"],
    {},
    "discovery: http://127.0.5.1:2379/v2/keys/d/t\n",
  );
  assert.equal(c.initialClusterString, "");
  assert.equal(
    await verifyError(
      ["--config-file", "c.yml"],
      {},
      "discovery: http://d/t\ninitial-cluster: a=http://a:1\n",
    ),
    'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
  );
});

Deno.test("config file errors", async () => {
  const missing = await fail(["--config-file", "/nonexistent.yml"]);
  assert.equal(
    missing.stderr,
    "error verifying flags, open /nonexistent.yml: no such file or directory. See 'etcd --help'.",
  );
  assert.equal(missing.exitCode, 1);
  const cases: [string, string][] = [
    ["name: [a\n", "error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'"],
    [
      "heartbeat-interval: abc\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.heartbeat-interval of type uint",
    ],
    [
      "heartbeat-interval: -1\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number -1 into Go struct field configYAML.heartbeat-interval of type uint",
    ],
    [
      "auto-compaction-retention: 1\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field configYAML.auto-compaction-retention of type string",
    ],
    [
      "log-outputs: stderr\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.log-outputs of type []string",
    ],
    [
      "client-transport-security: x\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.client-transport-security of type embed.securityConfig",
    ],
    [
      "peer-transport-security:\n  auto-tls: 3\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go struct field securityConfig.peer-transport-security.auto-tls of type bool",
    ],
    [
      "proxy-read-timeout: x\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configProxy.proxy-read-timeout of type uint",
    ],
    [
      "- a\n",
      "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type embed.configYAML",
    ],
    ["initial-cluster-state: foo\n", 'unexpected clusterState "foo"'],
    ["heartbeat-interval: 0\n", "--heartbeat-interval must be >0 (set to 0ms)"],
  ];
  for (const [yaml, want] of cases) {
    assert.equal(await verifyError(["--config-file", "c.yml"], {}, yaml), want, yaml);
  }
});

Deno.test("config file: a bad URL list is a raw stderr error, exit 1", async () => {
  const out = await fail(["--config-file", "c.yml"], {}, "listen-client-urls: foo\n");
  assert.equal(out.logged, false);
  assert.equal(out.exitCode, 1);
  assert.equal(
    out.stderr,
    "unexpected error setting up listen-client-urls: URL scheme must be http, https, unix, or unixs: foo\n",
  );
  const proxy = await fail(["--config-file", "c.yml"], {}, "proxy: sometimes\n");
  assert.equal(proxy.stderr, "unexpected error setting up proxyFlag: invalid value\n");
});

Deno.test("config file: YAML 1.1 scalars as Go's yaml.v2 reads them", async () => {
  assert.equal((await run(["--config-file", "c.yml"], {}, "enable-v2: yes\n")).enableV2, true);
  assert.equal((await run(["--config-file", "c.yml"], {}, "proxy: 'off'\n")).proxy, "off");
});
