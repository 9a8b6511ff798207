import assert from "node:assert/strict";
import { parseServerArgs } from "../../src/config/mod.ts";
import { fail, noFile, run, urls, verifyError } from "../helpers/config.ts";

Deno.test("ETCD_* variables set flags that were not given", async () => {
  const c = await run([], {
    ETCD_NAME: "infra0",
    ETCD_INITIAL_CLUSTER_TOKEN: "tok",
    ETCD_ENABLE_V2: "true",
    ETCD_HEARTBEAT_INTERVAL: "200",
    ETCD_ELECTION_TIMEOUT: "2000",
    ETCD_INITIAL_ADVERTISE_PEER_URLS: "http://127.0.5.1:2380",
    ETCD_INITIAL_CLUSTER: "infra0=http://127.0.5.1:2380",
    ETCD_INITIAL_CLUSTER_STATE: "existing",
  });
  assert.equal(c.name, "infra0");
  assert.equal(c.initialClusterToken, "tok");
  assert.equal(c.enableV2, true);
  assert.equal(c.heartbeatInterval, 200);
  assert.equal(c.electionTimeout, 2000);
  assert.deepEqual(urls(c.initialAdvertisePeerUrls), ["http://127.0.5.1:2380"]);
  assert.deepEqual(c.initialCluster, [{ name: "infra0", urls: ["http://127.0.5.1:2380"] }]);
  assert.equal(c.initialClusterState, "existing");
  assert.ok(c.explicit.has("name") && c.explicit.has("enable-v2"));
});

Deno.test("each used variable is reported in flag-name order", async () => {
  const out = await parseServerArgs([], { ETCD_NAME: "n", ETCD_ENABLE_V2: "true" }, noFile);
  if (out.action !== "run") throw new Error(out.action);
  const used = out.notices.filter((n) => n.text.startsWith("recognized"));
  assert.deepEqual(used.map((n) => [n.level, n.pkg, n.text]), [
    ["info", "pkg/flags", "recognized and used environment variable ETCD_ENABLE_V2=true"],
    ["info", "pkg/flags", "recognized and used environment variable ETCD_NAME=n"],
  ]);
  assert.equal(used[0].msg, "recognized and used environment variable");
  assert.deepEqual(used[0].fields, { "variable-name": "ETCD_ENABLE_V2", "variable-value": "true" });
});

Deno.test("an empty variable is not applied (but etcd still calls it unrecognized)", async () => {
  const out = await parseServerArgs([], { ETCD_NAME: "" }, noFile);
  if (out.action !== "run") throw new Error(out.action);
  assert.equal(out.config.name, "default");
  assert.ok(out.notices.some((n) => n.text === "unrecognized environment variable ETCD_NAME="));
});

Deno.test("a flag and its variable both set is fatal (even an empty variable)", async () => {
  const msg =
    'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)';
  for (const val of ["y", ""]) {
    const out = await fail(["--name", "x"], { ETCD_NAME: val });
    assert.equal(out.exitCode, 1);
    assert.equal(out.logged, true);
    assert.equal(out.stderr, msg);
    assert.deepEqual([out.records[0].level, out.records[0].pkg], ["critical", "pkg/flags"]);
  }
});

Deno.test("unknown ETCD_* variables warn and startup continues", async () => {
  const out = await parseServerArgs([], { ETCD_FOO_BAR: "1", HOME: "/root" }, noFile);
  if (out.action !== "run") throw new Error(out.action);
  const w = out.notices.filter((n) => n.text.startsWith("unrecognized"));
  assert.deepEqual(w.map((n) => [n.level, n.pkg, n.text]), [
    ["warn", "pkg/flags", "unrecognized environment variable ETCD_FOO_BAR=1"],
  ]);
});

Deno.test("invalid variable values are verification errors; the last flag in name order wins", async () => {
  assert.equal(
    await verifyError([], { ETCD_HEARTBEAT_INTERVAL: "abc" }),
    'invalid value "abc" for ETCD_HEARTBEAT_INTERVAL: parse error',
  );
  assert.equal(
    await verifyError([], { ETCD_HEARTBEAT_INTERVAL: "abc", ETCD_INITIAL_CLUSTER_STATE: "foo" }),
    'invalid value "foo" for ETCD_INITIAL_CLUSTER_STATE: invalid value',
  );
  assert.equal(
    await verifyError([], { ETCD_LISTEN_PEER_URLS: "http://a:1/x" }),
    'invalid value "http://a:1/x" for ETCD_LISTEN_PEER_URLS: URL must not contain a path: http://a:1/x',
  );
});

Deno.test("ETCD_CONFIG_FILE is read when --config-file is absent, and then env is ignored", async () => {
  const c = await run([], { ETCD_CONFIG_FILE: "c.yml", ETCD_NAME: "fromenv" }, "name: fromfile\n");
  assert.equal(c.name, "fromfile");
  assert.equal(c.configFile, "c.yml");
  assert.equal((await run([], { ETCD_CONFIG_FILE: "" })).name, "default");
});

Deno.test("ETCD_VERSION is not applied and is warned about", async () => {
  const out = await parseServerArgs([], { ETCD_VERSION: "3.4" }, noFile);
  assert.equal(out.action, "run");
  if (out.action === "run") {
    assert.ok(out.notices.some((n) => n.text.includes('"ETCD_VERSION"')));
  }
});
