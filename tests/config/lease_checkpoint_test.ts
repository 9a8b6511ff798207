// The lease checkpoint flags as etcd 3.4.23 checks them, and the interval's test knob.
import assert from "node:assert/strict";
import { parseServerArgs } from "../../src/config/mod.ts";
import { fail, noFile, run, verifyError } from "../helpers/config.ts";

const WARNING =
  "Detected that checkpointing is enabled without persistence. Consider enabling experimental-enable-lease-checkpoint-persist";

async function noticesOf(argv: string[]) {
  const out = await parseServerArgs(argv, {}, noFile);
  assert.equal(out.action, "run");
  return out.action === "run" ? out.notices.map((n) => n.text) : [];
}

Deno.test("--experimental-enable-lease-checkpoint and -persist reach the config", async () => {
  const off = await run([]);
  assert.equal(off.experimentalEnableLeaseCheckpoint, false);
  assert.equal(off.experimentalEnableLeaseCheckpointPersist, false);
  assert.equal(off.leaseCheckpointIntervalMs, undefined);
  const on = await run([
    "--experimental-enable-lease-checkpoint",
    "--experimental-enable-lease-checkpoint-persist=true",
  ]);
  assert.equal(on.experimentalEnableLeaseCheckpoint, true);
  assert.equal(on.experimentalEnableLeaseCheckpointPersist, true);
  assert.ok(
    !(await noticesOf([
      "--experimental-enable-lease-checkpoint-persist",
      "--experimental-enable-lease-checkpoint",
    ])).includes(WARNING),
  );
});

Deno.test("checkpointing without persistence warns as etcd's Validate does", async () => {
  assert.ok((await noticesOf(["--experimental-enable-lease-checkpoint"])).includes(WARNING));
  assert.ok(!(await noticesOf([])).includes(WARNING));
});

Deno.test("persistence without checkpointing, and bad booleans, fail with etcd's words", async () => {
  assert.equal(
    await verifyError(["--experimental-enable-lease-checkpoint-persist"]),
    "setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint",
  );
  assert.equal(
    await verifyError([], { ETCD_EXPERIMENTAL_ENABLE_LEASE_CHECKPOINT_PERSIST: "true" }),
    "setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint",
  );
  const bad = await fail(["--experimental-enable-lease-checkpoint=maybe"]);
  assert.equal(bad.exitCode, 2);
  assert.match(
    bad.stderr,
    /^invalid boolean value "maybe" for -experimental-enable-lease-checkpoint: parse error\n/,
  );
});

Deno.test("ETCD_TS_LEASE_CHECKPOINT_INTERVAL: a Go duration, used without a warning", async () => {
  const env = { ETCD_TS_LEASE_CHECKPOINT_INTERVAL: "1m30s" };
  assert.equal(
    (await run(["--experimental-enable-lease-checkpoint"], env)).leaseCheckpointIntervalMs,
    90_000,
  );
  const out = await parseServerArgs([], env, noFile);
  assert.ok(out.action === "run");
  assert.ok(!out.notices.some((n) => n.text.includes("ETCD_TS_LEASE_CHECKPOINT_INTERVAL")));
  assert.equal(
    await verifyError([], { ETCD_TS_LEASE_CHECKPOINT_INTERVAL: "soon" }),
    'invalid value "soon" for ETCD_TS_LEASE_CHECKPOINT_INTERVAL: time: invalid duration "soon"',
  );
  assert.equal(
    await verifyError([], { ETCD_TS_LEASE_CHECKPOINT_INTERVAL: "0s" }),
    'ETCD_TS_LEASE_CHECKPOINT_INTERVAL must be positive ("0s")',
  );
});
