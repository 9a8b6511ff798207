import assert from "node:assert/strict";
import { listenerConfigError, parseServerArgs } from "../../src/config/mod.ts";
import { BASE, fail, noFile, run, verifyError } from "../helpers/config.ts";

Deno.test("verification errors and their exact texts", async () => {
  const cases: [string[], string][] = [
    [["--heartbeat-interval=0"], "--heartbeat-interval must be >0 (set to 0ms)"],
    [["--election-timeout=0"], "--election-timeout must be >0 (set to 0ms)"],
    [
      ["--heartbeat-interval=300"],
      "--election-timeout[1000ms] should be at least as 5 times as --heartbeat-interval[300ms]",
    ],
    [
      ["--election-timeout=60000"],
      "--election-timeout[60000ms] is too long, and should be set less than 50000ms",
    ],
    [
      ["--listen-client-urls=http://127.0.0.1:2379"],
      "--advertise-client-urls is required when --listen-client-urls is set explicitly",
    ],
    [
      ["--listen-peer-urls=http://example.com:2380"],
      "expected IP in URL for binding (http://example.com:2380)",
    ],
    [
      [...BASE, "--listen-metrics-urls=http://host1:1"],
      "expected IP in URL for binding (http://host1:1)",
    ],
    [
      [...BASE, "--listen-client-urls=http://127.0.0.1:1,http://foo:2"],
      "expected IP in URL for binding (http://foo:2)",
    ],
    [
      ["--initial-advertise-peer-urls=http://:2380"],
      '--initial-advertise-peer-urls "http://:2380" must be "host:port" (unexpected empty host (http://:2380))',
    ],
    [
      ["--advertise-client-urls=http://:2379,http://a:1"],
      '--advertise-client-urls "http://:2379,http://a:1" must be "host:port" (unexpected empty host (http://:2379))',
    ],
    [
      ["--discovery=http://d/x", "--initial-cluster=a=http://a:1"],
      'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
    ],
    [
      ["--discovery=http://d/x", "--discovery-srv=example.com"],
      'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
    ],
    [["--auto-compaction-mode=foo"], 'unknown auto-compaction-mode "foo"'],
    [["--logger=foo"], 'unknown logger option "foo"'],
    [
      ["--log-outputs=stdout,stderr"],
      `--logger=capnslog supports only 1 value in '--log-outputs', got ["stderr" "stdout"]`,
    ],
    [
      ["--log-outputs=foo"],
      'unknown log-output "foo" (only supports "default", "stderr", "stdout")',
    ],
    [
      ["--logger=zap", "--log-outputs=default,stderr"],
      'multi logoutput for "default" is not supported yet',
    ],
    [
      ["--log-level=foo"],
      'unknown log-level "foo" (only supports debug, info, warn, error, panic, or fatal)',
    ],
    [
      ["--self-signed-cert-validity=0"],
      "selfSignedCertValidity is invalid,it should be greater than 0",
    ],
  ];
  for (const [argv, want] of cases) assert.equal(await verifyError(argv), want, argv.join(" "));
});

Deno.test("listen URLs accept IPs, localhost and unix sockets", async () => {
  await run([
    "--listen-peer-urls=http://[::1]:2380,unix://somewhere:1,http://localhost:3",
    "--listen-client-urls=http://0.0.0.0:2379",
    "--advertise-client-urls=http://h:2379",
  ]);
});

Deno.test("advertise-client-urls may be omitted when the process may become a proxy", async () => {
  await run(["--listen-client-urls=http://127.0.0.1:2379", "--proxy=on"]);
  await run(["--listen-client-urls=http://127.0.0.1:2379", "--discovery=http://d/t"]);
  assert.equal(
    await verifyError([
      "--listen-client-urls=http://127.0.0.1:2379",
      "--discovery=http://d/t",
      "--discovery-fallback=exit",
    ]),
    "--advertise-client-urls is required when --listen-client-urls is set explicitly",
  );
});

Deno.test("the missing-advertise error adds etcd's explanation line", async () => {
  const out = await fail(["--listen-client-urls=http://127.0.0.1:2379"]);
  assert.equal(out.records.length, 2);
  assert.equal(
    out.records[1].text,
    "When listening on specific address(es), this etcd process must advertise accessible url(s) to each connected client.",
  );
});

Deno.test("zap logger: verification failures are warn records 'failed to verify flags'", async () => {
  const out = await fail(["--logger=zap", "--heartbeat-interval=0"]);
  assert.equal(out.logging.logger, "zap");
  assert.deepEqual(
    [out.records[0].level, out.records[0].msg, out.records[0].fields],
    ["warn", "failed to verify flags", { error: "--heartbeat-interval must be >0 (set to 0ms)" }],
  );
  // When the logging flags themselves are wrong, etcd's logger does not exist: capnslog.
  assert.equal(
    (await fail(["--logger=zap", "--log-outputs=default,stderr"])).logging.logger,
    "capnslog",
  );
});

Deno.test("discovery clears the default initial cluster unless it was given", async () => {
  const c = await run(["--discovery=http://127.0.5.1:2379/v2/keys/discovery/tok"]);
  assert.equal(c.initialClusterString, "");
  assert.deepEqual(c.initialCluster, []);
  assert.equal((await run(["--discovery-srv=example.com"])).initialClusterString, "");
  assert.equal((await run(["--discovery-srv-name=x", "--name=n"])).initialClusterString, "");
});

Deno.test("the initial cluster defaults to <name>=<advertised peer URLs> when only --name is set", async () => {
  const c = await run([
    "--name",
    "infra1",
    "--initial-advertise-peer-urls",
    "http://127.0.5.2:2380,http://127.0.5.2:2381",
  ]);
  assert.equal(c.initialClusterString, "infra1=http://127.0.5.2:2380,infra1=http://127.0.5.2:2381");
  assert.deepEqual(c.initialCluster, [{
    name: "infra1",
    urls: ["http://127.0.5.2:2380", "http://127.0.5.2:2381"],
  }]);
  const given = await run([
    "--name",
    "infra1",
    "--initial-cluster",
    "infra0=http://127.0.5.1:2380",
  ]);
  assert.deepEqual(given.initialCluster, [{ name: "infra0", urls: ["http://127.0.5.1:2380"] }]);
});

Deno.test("initial cluster parsing: merge names, keep raw names, exact errors deferred to the server", async () => {
  const c = await run([
    "--initial-cluster",
    "a=http://127.0.5.2:2381,a=http://127.0.5.2:2380,, c=http://127.0.5.3:2380",
  ]);
  assert.deepEqual(c.initialCluster, [
    { name: "a", urls: ["http://127.0.5.2:2380", "http://127.0.5.2:2381"] },
    { name: " c", urls: ["http://127.0.5.3:2380"] },
  ]);
  const cases: [string, string][] = [
    [
      "a=http://127.0.5.2:2380,b",
      "error setting up initial cluster: URL scheme must be http, https, unix, or unixs: ",
    ],
    [
      "a=http://127.0.5.2:2380/",
      "error setting up initial cluster: URL must not contain a path: http://127.0.5.2:2380/",
    ],
    [
      "b=127.0.5.3:2380",
      'error setting up initial cluster: parse "127.0.5.3:2380": first path segment in URL cannot contain colon',
    ],
  ];
  for (const [ic, want] of cases) {
    const bad = await run(["--initial-cluster", ic]);
    assert.equal(bad.initialClusterError, want);
    assert.deepEqual(bad.initialCluster, []);
  }
});

Deno.test("data dir defaults to <name>.etcd with etcd's warning", async () => {
  const out = await parseServerArgs(["--name", "s1"], {}, noFile);
  if (out.action !== "run") throw new Error(out.action);
  assert.equal(out.config.dataDir, "s1.etcd");
  assert.ok(
    out.notices.some((n) => n.text === "no data-dir provided, using default data-dir ./s1.etcd"),
  );
  assert.equal((await run(["--data-dir", "/tmp/x"])).dataDir, "/tmp/x");
});

Deno.test("snapshot count 0 means the default; quota and request size warnings", async () => {
  const out = await parseServerArgs(
    ["--snapshot-count=0", "--quota-backend-bytes=9000000000", "--max-request-bytes=20000000"],
    {},
    noFile,
  );
  if (out.action !== "run") throw new Error(out.action);
  assert.equal(out.config.snapshotCount, 100000);
  const texts = out.notices.map((n) => n.text);
  assert.ok(texts.includes("set snapshot count to default 100000"));
  assert.ok(
    texts.includes("backend quota 9000000000 exceeds maximum recommended quota 8589934592"),
  );
  assert.ok(texts.includes("MaxRequestBytes 20000000 exceeds maximum recommended size 10485760"));
  const neg = await parseServerArgs(["--quota-backend-bytes=-1"], {}, noFile);
  if (neg.action === "run") {
    assert.ok(neg.notices.some((n) => n.text === "disabling backend quota"));
  }
});

Deno.test("compaction retention: hours, durations, revisions, and the fatal parse error", async () => {
  assert.equal((await run(["--auto-compaction-retention=1"])).compactionRetention, 3_600_000);
  assert.equal((await run(["--auto-compaction-retention=30m"])).compactionRetention, 1_800_000);
  assert.equal((await run(["--auto-compaction-retention=1h30m"])).compactionRetention, 5_400_000);
  assert.equal(
    (await run(["--auto-compaction-mode=revision", "--auto-compaction-retention=1000"]))
      .compactionRetention,
    1000,
  );
  const out = await fail(["--auto-compaction-retention=abc"]);
  assert.equal(out.stderr, 'error parsing CompactionRetention: time: invalid duration "abc"');
  assert.deepEqual([out.records[0].level, out.records[0].pkg], ["critical", "etcdmain"]);
  assert.equal(
    (await fail(["--auto-compaction-retention=-1"])).stderr,
    'error parsing CompactionRetention: time: missing unit in duration "-1"',
  );
});

Deno.test("the capnslog deprecation warning is a raw stderr line", async () => {
  const out = await parseServerArgs([], {}, noFile);
  if (out.action !== "run") throw new Error(out.action);
  assert.ok(
    out.notices.some((n) =>
      n.raw &&
      n.text ===
        "[WARNING] Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead"
    ),
  );
  const zap = await parseServerArgs(["--logger=zap"], {}, noFile);
  if (zap.action === "run") assert.ok(!zap.notices.some((n) => n.raw));
});

Deno.test("deprecated logging aliases", async () => {
  const out = await parseServerArgs(["--log-output=stdout", "--debug"], {}, noFile);
  if (out.action !== "run") throw new Error(out.action);
  assert.equal(out.config.logLevel, "debug");
  const raw = out.notices.filter((n) => n.raw).map((n) => n.text);
  assert.ok(raw.includes(`[WARNING] Deprecated '--log-output' flag is set to ["stdout"]`));
  assert.ok(
    raw.includes(
      "[WARNING] Deprecated '--debug' flag is set to true (use '--log-level=debug' instead",
    ),
  );
  assert.equal(
    (await run(["--logger=zap", "--log-outputs=/tmp/a.log,stderr"])).logOutputs.join(","),
    "/tmp/a.log,stderr",
  );
});

Deno.test("listener checks: https without certificates, cipher suites, allowed CN and hostname", async () => {
  const ok = await run([...BASE, "--listen-peer-urls=http://127.0.5.54:2380"]);
  assert.equal(listenerConfigError(ok), undefined);
  const peer = await run([...BASE, "--listen-peer-urls=https://127.0.5.54:2380"]);
  assert.equal(
    listenerConfigError(peer),
    "cannot listen on TLS for 127.0.5.54:2380: KeyFile and CertFile are not presented",
  );
  assert.equal(
    listenerConfigError(await run([...BASE, "--listen-peer-urls=https://127.0.5.54:443"])),
    "cannot listen on TLS for 127.0.5.54:443: KeyFile and CertFile are not presented",
  );
  assert.equal(
    listenerConfigError(
      await run([...BASE, "--listen-peer-urls=https://127.0.5.54:2380", "--peer-auto-tls"]),
    ),
    undefined,
  );
  const client = await run([
    "--listen-client-urls=https://127.0.5.54:2379",
    "--advertise-client-urls=https://127.0.5.54:2379",
  ]);
  assert.equal(
    listenerConfigError(client),
    "TLS key/cert (--cert-file, --key-file) must be provided for client url https://127.0.5.54:2379 with HTTPS scheme",
  );
  assert.equal(
    listenerConfigError(await run(["--cipher-suites=FOO"])),
    'unexpected TLS cipher suite "FOO"',
  );
  assert.equal(
    listenerConfigError(
      await run([
        "--listen-peer-urls=https://127.0.0.1:1",
        "--peer-cert-file=a",
        "--peer-key-file=b",
        "--peer-cert-allowed-cn=x",
        "--peer-cert-allowed-hostname=y",
      ]),
    ),
    'AllowedCN and AllowedHostname are mutually exclusive (cn="x", hostname="y")',
  );
  // Auto-TLS makes its own peer TLS set-up, without the allowed names: nothing to refuse.
  const auto = [
    "--listen-peer-urls=https://127.0.0.1:1",
    "--peer-auto-tls",
    "--peer-cert-allowed-cn=x",
    "--peer-cert-allowed-hostname=y",
  ];
  assert.equal(listenerConfigError(await run(auto)), undefined);
});

Deno.test("TLS warnings: http listeners with certificates, auto TLS with certificates", async () => {
  const out = await parseServerArgs(
    ["--peer-cert-file=a", "--peer-key-file=b", "--peer-auto-tls", "--auto-tls", "--cert-file=c"],
    {},
    noFile,
  );
  if (out.action !== "run") throw new Error(out.action);
  const texts = out.notices.map((n) => n.text);
  assert.ok(texts.includes("ignoring peer auto TLS since certs given"));
  assert.ok(texts.includes("ignoring client auto TLS since certs given"));
  assert.ok(
    texts.includes(
      "The scheme of peer url http://localhost:2380 is HTTP while peer key/cert files are presented. Ignored peer key/cert files.",
    ),
  );
});
