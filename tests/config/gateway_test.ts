import assert from "node:assert/strict";
import { type GatewayOutcome, parseGatewayArgs } from "../../src/config/mod.ts";

function runCfg(argv: string[]) {
  const out = parseGatewayArgs(argv);
  if (out.action !== "run") assert.fail(`expected run, got ${JSON.stringify(out)}`);
  return out.config;
}

function failText(argv: string[]): string {
  const out: GatewayOutcome = parseGatewayArgs(argv);
  if (out.action !== "fail") assert.fail(`expected fail, got ${out.action}`);
  assert.equal(out.exitCode, 1);
  return out.stderr;
}

Deno.test("gateway start: defaults", () => {
  const c = runCfg(["start"]);
  assert.deepEqual(c.endpoints, ["127.0.0.1:2379"]);
  assert.equal(c.listenAddr, "127.0.0.1:23790");
  assert.equal(c.retryDelay, 60_000);
  assert.equal(c.insecureDiscovery, false);
  assert.equal(c.discoverySrv, "");
});

Deno.test("gateway start: pflag syntaxes; endpoints split and appended on repeat", () => {
  const c = runCfg([
    "start",
    "--endpoints=127.0.5.11:2379,127.0.5.12:2379",
    "--endpoints",
    "http://127.0.5.13:2379",
    "--listen-addr",
    "127.0.5.10:23790",
    "--retry-delay=5s",
    "--insecure-discovery",
    "--discovery-srv",
    "example.com",
    "--discovery-srv-name=x",
    "--trusted-ca-file=ca.pem",
    "positional",
  ]);
  assert.deepEqual(c.endpoints, ["127.0.5.11:2379", "127.0.5.12:2379", "http://127.0.5.13:2379"]);
  assert.equal(c.listenAddr, "127.0.5.10:23790");
  assert.equal(c.retryDelay, 5000);
  assert.equal(c.insecureDiscovery, true);
  assert.equal(c.discoverySrv, "example.com");
  assert.equal(c.discoverySrvName, "x");
  assert.equal(c.trustedCaFile, "ca.pem");
  assert.equal(runCfg(["start", "--insecure-discovery=false"]).insecureDiscovery, false);
});

Deno.test("gateway start: cobra error layout", () => {
  const text = failText(["start", "--insecure-skip-tls-verify"]);
  assert.ok(text.startsWith("Error: unknown flag: --insecure-skip-tls-verify\nUsage:\n"));
  assert.ok(text.endsWith("\n\nunknown flag: --insecure-skip-tls-verify"));
  assert.ok(text.includes("--endpoints strings"));
  assert.ok(text.includes('(default "127.0.0.1:23790")'));
  assert.ok(text.includes("(default 1m0s)"));
  const errors: [string[], string][] = [
    [
      ["start", "--retry-delay", "abc"],
      'invalid argument "abc" for "--retry-delay" flag: time: invalid duration "abc"',
    ],
    [["start", "--listen-addr"], "flag needs an argument: --listen-addr"],
    [
      ["start", "--insecure-discovery=maybe"],
      'invalid argument "maybe" for "--insecure-discovery" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
    ],
    [["start", "-listen-addr", "x"], "unknown shorthand flag: 'l' in -listen-addr"],
    [["--bogus"], "unknown flag: --bogus"],
  ];
  for (const [argv, err] of errors) {
    const t = failText(argv);
    assert.ok(t.startsWith(`Error: ${err}\n`), t);
    assert.ok(t.endsWith(`\n${err}`), t);
  }
});

Deno.test("gateway alone, or with help flags, prints help with exit 0", () => {
  for (const argv of [[], ["foo"], ["--help"], ["-h"]]) {
    const out = parseGatewayArgs(argv);
    assert.equal(out.action, "print", argv.join(" "));
    if (out.action === "print") assert.ok(out.stdout.includes("start       start the gateway"));
  }
  for (const argv of [["start", "-h"], ["start", "--help"]]) {
    const out = parseGatewayArgs(argv);
    assert.equal(out.action, "print");
    if (out.action === "print") assert.ok(out.stdout.startsWith("start the gateway\n\nUsage:\n"));
  }
});

Deno.test("gateway: start's flags may come before `start`, as cobra finds the subcommand", () => {
  const c = runCfg(["--endpoints=127.0.5.11:2379", "--listen-addr", "127.0.5.10:23790", "start"]);
  assert.deepEqual(c.endpoints, ["127.0.5.11:2379"]);
  assert.equal(c.listenAddr, "127.0.5.10:23790");
  const mixed = runCfg(["--retry-delay=5s", "start", "--endpoints", "127.0.5.12:2379"]);
  assert.equal(mixed.retryDelay, 5000);
  assert.deepEqual(mixed.endpoints, ["127.0.5.12:2379"]);
  // cobra drops the first "start", here the flag's value; the second is then that value.
  assert.equal(runCfg(["--listen-addr", "start", "start"]).listenAddr, "start");
  const bad = failText(["--retry-delay=abc", "start"]);
  assert.ok(bad.startsWith('Error: invalid argument "abc" for "--retry-delay" flag'), bad);
  assert.ok(bad.includes("etcd-ts gateway start [flags]"), bad);
});

Deno.test("gateway: a bare flag before `start` is taken to own it, as cobra guesses", () => {
  // `--insecure-discovery start`: cobra supposes "start" is the flag's value, finds no
  // subcommand, and the gateway command itself refuses the flag.
  const t = failText(["--insecure-discovery", "start"]);
  assert.ok(
    t.startsWith("Error: unknown flag: --insecure-discovery\nUsage:\n  etcd-ts gateway [command]"),
  );
  for (const argv of [["--help", "start"], ["-h", "start"], ["--", "start"]]) {
    const out = parseGatewayArgs(argv);
    assert.equal(out.action, "print", argv.join(" "));
    if (out.action === "print") assert.ok(out.stdout.startsWith("gateway related command\n"));
  }
});
