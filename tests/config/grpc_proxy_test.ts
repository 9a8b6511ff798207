// `grpc-proxy start` flags: defaults, pflag's syntaxes and number forms, and etcd's checks of the
// resolver flags. (The texts beside etcd's own are in tests/integration/grpcproxy.)
import assert from "node:assert/strict";
import { type GrpcProxyOutcome, parseGrpcProxyArgs } from "../../src/config/mod.ts";

function config(argv: string[]) {
  const out = parseGrpcProxyArgs(["start", ...argv]);
  if (out.action !== "run") assert.fail(`expected run, got ${JSON.stringify(out)}`);
  return out.config;
}

function failure(argv: string[]): string {
  const out: GrpcProxyOutcome = parseGrpcProxyArgs(["start", ...argv]);
  if (out.action !== "fail") assert.fail(`expected fail, got ${out.action}`);
  assert.equal(out.exitCode, 1);
  return out.stderr;
}

Deno.test("grpc-proxy start: etcd's defaults", () => {
  const c = config([]);
  assert.deepEqual(c.endpoints, ["127.0.0.1:2379"]);
  assert.equal(c.listenAddr, "127.0.0.1:23790");
  assert.equal(c.advertiseClientUrl, "127.0.0.1:23790");
  assert.equal(c.dataDir, "default.proxy");
  assert.equal(c.maxSendBytes, 1.5 * 1024 * 1024);
  assert.equal(c.maxRecvBytes, 2 ** 31 - 1);
  assert.equal(c.maxConcurrentStreams, 2 ** 32 - 1);
  assert.equal(c.resolverPrefix, "");
  assert.equal(c.resolverTtl, 0);
  assert.equal(c.listen.autoTls, false);
  assert.deepEqual(c.listen.cipherSuites, []);
});

Deno.test("grpc-proxy start: every flag reaches its field", () => {
  const c = config([
    "--endpoints=https://127.0.210.1:2379,127.0.210.2:2379",
    "--endpoints",
    "127.0.210.3:2379",
    "--listen-addr=127.0.210.9:1",
    "--advertise-client-url",
    "127.0.210.9:1",
    "--resolver-prefix=/p",
    "--resolver-ttl=0x1e",
    "--namespace=n/",
    "--cacert=ca",
    "--cert=c",
    "--key=k",
    "--insecure-skip-tls-verify",
    "--cert-file=cf",
    "--key-file=kf",
    "--trusted-ca-file=tca",
    "--client-crl-file=crl",
    "--listen-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "--auto-tls=true",
    "--max-send-bytes=010",
    "--max-recv-bytes=100",
    "--max-concurrent-streams=7",
    "--metrics-addr=http://127.0.210.9:2",
    "--debug",
    "--enable-pprof=false",
    "--experimental-serializable-ordering",
  ]);
  assert.deepEqual(c.endpoints, [
    "https://127.0.210.1:2379",
    "127.0.210.2:2379",
    "127.0.210.3:2379",
  ]);
  assert.equal(c.resolverTtl, 30);
  assert.equal(c.maxSendBytes, 8); // leading 0: octal, as Go's ParseInt with base 0
  assert.deepEqual(c.upstream, { cacert: "ca", cert: "c", key: "k", insecureSkipTlsVerify: true });
  assert.deepEqual(c.listen, {
    certFile: "cf",
    keyFile: "kf",
    trustedCaFile: "tca",
    clientCrlFile: "crl",
    cipherSuites: ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"],
    autoTls: true,
  });
  assert.equal(c.maxConcurrentStreams, 7);
  assert.equal(c.metricsAddr, "http://127.0.210.9:2");
  assert.equal(c.debug, true);
  assert.equal(c.enablePprof, false);
  assert.equal(c.serializableOrdering, true);
  assert.equal(c.namespace, "n/");
});

Deno.test("grpc-proxy start: pflag's refusals", () => {
  const cases: [string[], string][] = [
    [
      ["--resolver-ttl=x"],
      'invalid argument "x" for "--resolver-ttl" flag: strconv.ParseInt: parsing "x": invalid syntax',
    ],
    [
      ["--max-concurrent-streams=4294967296"],
      'invalid argument "4294967296" for "--max-concurrent-streams" flag: strconv.ParseUint: parsing "4294967296": value out of range',
    ],
    [
      ["--max-concurrent-streams", "-1"],
      'invalid argument "-1" for "--max-concurrent-streams" flag: strconv.ParseUint: parsing "-1": invalid syntax',
    ],
    [["--endpoints"], "flag needs an argument: --endpoints"],
    [["--bogus"], "unknown flag: --bogus"],
  ];
  for (const [argv, err] of cases) {
    const text = failure(argv);
    assert.ok(text.startsWith(`Error: ${err}\nUsage:\n  etcd-ts grpc-proxy start [flags]\n`), text);
    assert.ok(text.endsWith(`\n\n${err}`), text);
  }
});

Deno.test("grpc-proxy start: a resolver prefix needs a TTL, and the other way round", () => {
  assert.equal(failure(["--resolver-prefix=/p"]), "invalid resolver-ttl 0\n");
  assert.equal(failure(["--resolver-prefix=/p", "--resolver-ttl=-2"]), "invalid resolver-ttl -2\n");
  assert.equal(failure(["--resolver-ttl=3"]), 'invalid resolver-prefix ""\n');
  assert.equal(
    failure(["--resolver-prefix=/p", "--resolver-ttl=3", "--advertise-client-url="]),
    'invalid advertise-client-url ""\n',
  );
  assert.equal(config(["--resolver-prefix=/p", "--resolver-ttl=3"]).resolverTtl, 3);
});

Deno.test("grpc-proxy alone prints its help; start --help its flags", () => {
  const group = parseGrpcProxyArgs([]);
  assert.equal(group.action, "print");
  if (group.action === "print") {
    assert.ok(group.stdout.includes("start       start the grpc proxy"));
  }
  const help = parseGrpcProxyArgs(["start", "-h"]);
  assert.equal(help.action, "print");
  if (help.action !== "print") return;
  assert.ok(help.stdout.startsWith("start the grpc proxy\n\nUsage:\n  etcd-ts grpc-proxy start"));
  // pflag's layout: every description starts in the same column.
  const rows = help.stdout.split("\n").filter((l) => l.trimStart().startsWith("-"));
  assert.equal(rows.length, 29);
  const column = (row: string) => row.search(/(?<=\S {3,})\S/);
  assert.equal(new Set(rows.map(column)).size, 1, help.stdout);
  assert.ok(help.stdout.includes("--max-concurrent-streams uint32"));
  assert.ok(help.stdout.includes('(default "127.0.0.1:23790")'));
  assert.ok(help.stdout.includes("(default [127.0.0.1:2379])"));
});
