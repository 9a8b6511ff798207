// `etcd-ts help NAME` and `--help` as the executable prints them (the tables themselves are
// tested in tests/config/help_test.ts).
import assert from "node:assert/strict";
import { USAGE } from "../../../src/config/mod.ts";
import { DIAGNOSE_USAGE } from "../../../src/diagnose/mod.ts";
import { DISCOVERY_SERVICE_USAGE } from "../../../src/discovery/mod.ts";
import { snapshotHelp } from "../../../src/snapshot/mod.ts";
import { ETCD_TS, run } from "../../helpers/process.ts";

Deno.test("etcd-ts help NAME prints each subcommand's flags", async () => {
  const help = (...args: string[]) => run(ETCD_TS, ["help", ...args]);
  const [gateway, grpcProxy, diagnose, discovery, snapshot, usage, bad] = await Promise.all([
    help("gateway"),
    help("grpc-proxy"),
    help("diagnose"),
    help("discovery-service"),
    help("snapshot"),
    run(ETCD_TS, ["--help"]),
    help("nope"),
  ]);
  assert.equal(gateway.code, 0);
  assert.match(gateway.stdout, /^start the gateway\n\nUsage:\n {2}etcd-ts gateway start \[flags\]/);
  assert.match(gateway.stdout, /--listen-addr string/);
  assert.equal(grpcProxy.code, 0);
  assert.match(
    grpcProxy.stdout,
    /^start the grpc proxy\n\nUsage:\n {2}etcd-ts grpc-proxy start \[flags\]/,
  );
  assert.match(grpcProxy.stdout, /--resolver-prefix string/);
  assert.equal(diagnose.stdout, DIAGNOSE_USAGE);
  assert.equal(discovery.stdout, DISCOVERY_SERVICE_USAGE);
  assert.equal(snapshot.stdout, snapshotHelp(undefined));
  assert.ok(usage.stdout.startsWith(USAGE), "--help begins with the usage block");
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
});
