import assert from "node:assert/strict";
import { parseServerArgs, USAGE } from "../../src/config/mod.ts";
import { fail, noFile, run, urls, verifyError } from "../helpers/config.ts";

Deno.test("every Go flag syntax sets the value", async () => {
  const forms: string[][] = [
    ["-name", "x"],
    ["--name", "x"],
    ["-name=x"],
    ["--name=x"],
  ];
  for (const argv of forms) assert.equal((await run(argv)).name, "x", argv.join(" "));
});

Deno.test("booleans: bare, =true/=false, Go's accepted spellings", async () => {
  const cases: [string[], boolean][] = [
    [["--enable-v2"], true],
    [["-enable-v2"], true],
    [["--enable-v2=true"], true],
    [["--enable-v2=1"], true],
    [["--enable-v2=T"], true],
    [["--enable-v2=false"], false],
    [["--enable-v2=0"], false],
    [["--enable-v2=F"], false],
    [[], false],
  ];
  for (const [argv, want] of cases) assert.equal((await run(argv)).enableV2, want, argv.join(" "));
  assert.equal((await run(["--strict-reconfig-check=false"])).strictReconfigCheck, false);
  assert.equal((await run([])).strictReconfigCheck, true);
});

Deno.test("a value after a bare boolean is a positional argument", async () => {
  assert.equal(
    await verifyError(["--enable-v2", "false"]),
    "'false' is not a valid flag",
  );
  const out = await fail(["--name", "x", "extra"]);
  assert.equal(
    out.stderr,
    "error verifying flags, 'extra' is not a valid flag. See 'etcd --help'.",
  );
  assert.equal(out.records[0].level, "error");
  assert.equal(out.records[0].pkg, "etcdmain");
});

Deno.test("-- ends the flags; later words are positional", async () => {
  assert.equal(await verifyError(["--", "--name", "x"]), "'--name' is not a valid flag");
});

Deno.test("usage errors: exit 2, error line then usage on stderr", async () => {
  const cases: [string[], string][] = [
    [["--bogus-flag"], "flag provided but not defined: -bogus-flag"],
    [["-bogus-flag=3"], "flag provided but not defined: -bogus-flag"],
    [["--self-signed-cert-validity=0", "--nope"], "flag provided but not defined: -nope"],
    [
      ["--initial-cluster-state", "foo"],
      'invalid value "foo" for flag -initial-cluster-state: invalid value',
    ],
    [
      ["--discovery-fallback=maybe"],
      'invalid value "maybe" for flag -discovery-fallback: invalid value',
    ],
    [["--proxy", "sometimes"], 'invalid value "sometimes" for flag -proxy: invalid value'],
    [
      ["--heartbeat-interval", "abc"],
      'invalid value "abc" for flag -heartbeat-interval: parse error',
    ],
    [
      ["--heartbeat-interval", "-1"],
      'invalid value "-1" for flag -heartbeat-interval: parse error',
    ],
    [
      ["--max-request-bytes", "99999999999999999999999"],
      'invalid value "99999999999999999999999" for flag -max-request-bytes: value out of range',
    ],
    [
      ["--grpc-keepalive-min-time", "5"],
      'invalid value "5" for flag -grpc-keepalive-min-time: parse error',
    ],
    [["--enable-v2=maybe"], 'invalid boolean value "maybe" for -enable-v2: parse error'],
    [["--name"], "flag needs an argument: -name"],
    [["---x"], "bad flag syntax: ---x"],
    [["-=x"], "bad flag syntax: -=x"],
    [
      ["--listen-peer-urls", "127.0.5.3:2380"],
      'invalid value "127.0.5.3:2380" for flag -listen-peer-urls: parse "127.0.5.3:2380": first path segment in URL cannot contain colon',
    ],
    [
      ["--listen-client-urls=ftp://a:1"],
      'invalid value "ftp://a:1" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: ftp://a:1',
    ],
    [
      ["--advertise-client-urls=http://a"],
      'invalid value "http://a" for flag -advertise-client-urls: URL address does not have the form "host:port": http://a',
    ],
    [
      ["--initial-advertise-peer-urls=http://a:1/"],
      'invalid value "http://a:1/" for flag -initial-advertise-peer-urls: URL must not contain a path: http://a:1/',
    ],
  ];
  for (const [argv, line] of cases) {
    const out = await fail(argv);
    assert.equal(out.exitCode, 2, argv.join(" "));
    assert.equal(out.logged, false);
    assert.equal(out.stderr, `${line}\n${USAGE}\n`, argv.join(" "));
  }
});

Deno.test("the usage block lists the commands", () => {
  for (
    const s of [
      "Usage:",
      "[flags]",
      "--version",
      "-h | --help",
      "--config-file",
      "gateway",
      "grpc-proxy",
    ]
  ) {
    assert.ok(USAGE.includes(s), s);
  }
});

Deno.test("help and version print to stdout with exit 0", async () => {
  for (const argv of [["-h"], ["--help"], ["-help"], ["--name", "x", "-h"], ["--h=1"]]) {
    const out = await parseServerArgs(argv, {}, noFile);
    assert.equal(out.action, "print", argv.join(" "));
    if (out.action !== "print") continue;
    assert.equal(out.exitCode, 0);
    assert.ok(out.stdout.includes("--initial-cluster 'default=http://localhost:2380'"));
  }
  const v = await parseServerArgs(["--version"], {}, noFile);
  assert.equal(v.action, "print");
  if (v.action === "print") {
    const lines = v.stdout.split("\n");
    assert.equal(lines[0], "etcd Version: 3.4.23");
    assert.equal(lines[1], "etcd-ts Version: 0.1.0");
  }
  // An unknown flag before -h wins; a positional argument beats --version.
  assert.equal((await fail(["--bogus", "-h"])).exitCode, 2);
  assert.equal(await verifyError(["--version", "x"]), "'x' is not a valid flag");
});

Deno.test("help lists every visible flag with its default", async () => {
  const out = await parseServerArgs(["--help"], {}, noFile);
  if (out.action !== "print") throw new Error("no help");
  for (
    const want of [
      "--name 'default'",
      "--data-dir '${name}.etcd'",
      "--heartbeat-interval '100'",
      "--election-timeout '1000'",
      "--listen-peer-urls 'http://localhost:2380'",
      "--snapshot-count '100000'",
      "--quota-backend-bytes '0'",
      "--max-request-bytes '1572864'",
      "--grpc-keepalive-interval '2h'",
      "--initial-cluster-state 'new'",
      "--initial-cluster-token 'etcd-cluster'",
      "--discovery-fallback 'proxy'",
      "--auto-compaction-mode 'periodic'",
      "--logger 'capnslog'",
      "--log-outputs 'default'",
      "--proxy 'off'",
      "--proxy-refresh-interval '30000'",
      "--force-new-cluster 'false'",
      "--self-signed-cert-validity '1'",
    ]
  ) assert.ok(out.stdout.includes(want), want);
});

Deno.test("typed values: uint accepts Go's base prefixes, durations are Go durations", async () => {
  const c = await run([
    "--heartbeat-interval=0x10",
    "--election-timeout",
    "0o2000",
    "--grpc-keepalive-min-time=1m30s",
    "--grpc-keepalive-interval=1.5h",
    "--grpc-keepalive-timeout=250ms",
    "--quota-backend-bytes=-1",
  ]);
  assert.equal(c.heartbeatInterval, 16);
  assert.equal(c.electionTimeout, 1024);
  assert.equal(c.grpcKeepaliveMinTime, 90_000);
  assert.equal(c.grpcKeepaliveInterval, 5_400_000);
  assert.equal(c.grpcKeepaliveTimeout, 250);
  assert.equal(c.quotaBackendBytes, -1);
  assert.equal((await fail(["--snapshot-count=1_000"])).exitCode, 2);
  assert.equal((await run(["--snapshot-count=0x_10"])).snapshotCount, 16);
});

Deno.test("defaults match etcd 3.4", async () => {
  const c = await run([]);
  assert.equal(c.name, "default");
  assert.equal(c.dataDir, "default.etcd");
  assert.equal(c.heartbeatInterval, 100);
  assert.equal(c.electionTimeout, 1000);
  assert.equal(c.snapshotCount, 100000);
  assert.deepEqual(urls(c.listenPeerUrls), ["http://localhost:2380"]);
  assert.deepEqual(urls(c.listenClientUrls), ["http://localhost:2379"]);
  assert.deepEqual(urls(c.advertiseClientUrls), ["http://localhost:2379"]);
  assert.deepEqual(urls(c.initialAdvertisePeerUrls), ["http://localhost:2380"]);
  assert.deepEqual(c.listenMetricsUrls, []);
  assert.deepEqual(c.initialCluster, [{ name: "default", urls: ["http://localhost:2380"] }]);
  assert.equal(c.initialClusterState, "new");
  assert.equal(c.initialClusterToken, "etcd-cluster");
  assert.equal(c.logger, "capnslog");
  assert.equal(c.logLevel, "info");
  assert.deepEqual(c.logOutputs, ["default"]);
  assert.equal(c.maxRequestBytes, 1572864);
  assert.equal(c.maxTxnOps, 128);
  assert.equal(c.quotaBackendBytes, 0);
  assert.equal(c.grpcKeepaliveMinTime, 5000);
  assert.equal(c.grpcKeepaliveInterval, 7_200_000);
  assert.equal(c.grpcKeepaliveTimeout, 20_000);
  assert.equal(c.proxy, "off");
  assert.equal(c.proxyFailureWait, 5000);
  assert.equal(c.proxyRefreshInterval, 30000);
  assert.equal(c.proxyDialTimeout, 1000);
  assert.equal(c.proxyWriteTimeout, 5000);
  assert.equal(c.proxyReadTimeout, 0);
  assert.equal(c.discoveryFallback, "proxy");
  assert.equal(c.strictReconfigCheck, true);
  assert.equal(c.preVote, false);
  assert.equal(c.enableV2, false);
  assert.equal(c.autoCompactionMode, "periodic");
  assert.equal(c.compactionRetention, 0);
  assert.deepEqual(c.cors, ["*"]);
  assert.deepEqual(c.cipherSuites, []);
  assert.equal(c.authToken, "simple");
  assert.equal(c.selfSignedCertValidity, 1);
  assert.equal(c.explicit.size, 0);
});

Deno.test("later repeats of a flag replace earlier ones; explicit records what was given", async () => {
  const c = await run([
    "--name",
    "a",
    "--name",
    "b",
    "--listen-peer-urls",
    "http://127.0.0.1:1",
    "--listen-peer-urls",
    "http://127.0.0.1:2",
  ]);
  assert.equal(c.name, "b");
  assert.deepEqual(urls(c.listenPeerUrls), ["http://127.0.0.1:2"]);
  assert.deepEqual([...c.explicit].sort(), ["listen-peer-urls", "name"]);
});

Deno.test("URL lists are trimmed, sorted and de-duplicated; toString is Go's form", async () => {
  const c = await run([
    "--listen-client-urls",
    " http://127.0.0.2:2379 ,http://127.0.0.1:2379,http://127.0.0.1:2379",
    "--advertise-client-urls=https://b:1,http://a:2",
  ]);
  assert.deepEqual(urls(c.listenClientUrls), ["http://127.0.0.1:2379", "http://127.0.0.2:2379"]);
  assert.deepEqual(urls(c.advertiseClientUrls), ["http://a:2", "https://b:1"]);
  assert.equal(c.listenClientUrls[0].port, "2379");
  assert.equal(c.listenClientUrls[0].hostname, "127.0.0.1");
  assert.equal(JSON.stringify(c.advertiseClientUrls), '["http://a:2","https://b:1"]');
});

Deno.test("an empty URL flag value changes nothing (etcd's allowed exception)", async () => {
  const c = await run(["--listen-metrics-urls", "", "--listen-peer-urls="]);
  assert.deepEqual(c.listenMetricsUrls, []);
  assert.deepEqual(urls(c.listenPeerUrls), ["http://localhost:2380"]);
});

Deno.test("ignored legacy flags are accepted as booleans and warned about", async () => {
  const out = await parseServerArgs(
    ["-v", "--snapshot", "--peer-heartbeat-interval=5", "--name", "x"],
    {},
    noFile,
  );
  assert.equal(out.action, "run");
  if (out.action !== "run") return;
  const texts = out.notices.filter((n) => n.pkg === "pkg/flags").map((n) => n.text);
  assert.deepEqual(texts, [
    'flag "-v" is no longer supported - ignoring.',
    'flag "-snapshot" is no longer supported - ignoring.',
    'flag "-peer-heartbeat-interval" is no longer supported - ignoring.',
  ]);
  assert.equal(out.config.name, "x");
});

Deno.test("3.4 extra flags and 3.5 additions parse", async () => {
  const c = await run([
    "--force-new-cluster",
    "--max-concurrent-streams=100",
    "--experimental-initial-corrupt-check",
    "--auth-token",
    "jwt,pub-key=a,priv-key=b,sign-method=RS256",
    "--enable-pprof",
    "--experimental-compaction-batch-limit=10",
    "--experimental-watch-progress-notify-interval=1s",
    "--self-signed-cert-validity=3",
    "--tls-min-version=TLS1.3",
    "--unsafe-no-fsync",
    "--peer-client-cert-file=c.pem",
  ]);
  assert.equal(c.forceNewCluster, true);
  assert.equal(c.maxConcurrentStreams, 100);
  assert.equal(c.experimentalInitialCorruptCheck, true);
  assert.equal(c.authToken, "jwt,pub-key=a,priv-key=b,sign-method=RS256");
  assert.equal(c.enablePprof, true);
  assert.equal(c.experimentalCompactionBatchLimit, 10);
  assert.equal(c.experimentalWatchProgressNotifyInterval, 1000);
  assert.equal(c.selfSignedCertValidity, 3);
  assert.equal(c.tlsMinVersion, "TLS1.3");
  assert.equal(c.unsafeNoFsync, true);
  assert.equal(c.peerTLS.clientCertFile, "c.pem");
});

Deno.test("TLS flags fill clientTLS and peerTLS", async () => {
  const c = await run([
    "--cert-file=c.pem",
    "--key-file=k.pem",
    "--client-cert-auth",
    "--trusted-ca-file=ca.pem",
    "--client-crl-file=crl.pem",
    "--client-cert-allowed-hostname=h",
    "--auto-tls",
    "--peer-cert-file=pc.pem",
    "--peer-key-file=pk.pem",
    "--peer-client-cert-auth",
    "--peer-trusted-ca-file=pca.pem",
    "--peer-crl-file=pcrl.pem",
    "--peer-cert-allowed-cn=cn",
    "--peer-auto-tls",
    "--cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  ]);
  assert.deepEqual(c.clientTLS, {
    certFile: "c.pem",
    keyFile: "k.pem",
    clientCertFile: "",
    clientKeyFile: "",
    clientCertAuth: true,
    trustedCAFile: "ca.pem",
    autoTLS: true,
    crlFile: "crl.pem",
    allowedCN: "",
    allowedHostname: "h",
  });
  assert.deepEqual(c.peerTLS, {
    certFile: "pc.pem",
    keyFile: "pk.pem",
    clientCertFile: "",
    clientKeyFile: "",
    clientCertAuth: true,
    trustedCAFile: "pca.pem",
    autoTLS: true,
    crlFile: "pcrl.pem",
    allowedCN: "cn",
    allowedHostname: "",
  });
  assert.deepEqual(c.cipherSuites, [
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  ]);
});
