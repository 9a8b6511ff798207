// The set of failpoints: setting and clearing them, GOFAIL_FAILPOINTS, and what a pass does at a
// call site (a return becomes the error it names; a sleep delays).
import assert from "node:assert/strict";
import {
  disable,
  disableAll,
  enable,
  enableFromEnv,
  ErrDisabled,
  ErrNoExist,
  evaluate,
  failpoints,
  hit,
  hitSync,
  list,
  status,
} from "../../src/failpoint/mod.ts";

Deno.test("one flag says whether any failpoint is set", () => {
  disableAll();
  assert.equal(failpoints.on, false);
  enable("raftBeforeSave", "off");
  enable("walBeforeSync", `return("EIO")`);
  assert.equal(failpoints.on, true);
  assert.deepEqual(list(), ["raftBeforeSave=off", `walBeforeSync=return("EIO")`]);
  disable("raftBeforeSave");
  assert.equal(failpoints.on, true);
  disable("walBeforeSync");
  assert.equal(failpoints.on, false);
  assert.deepEqual(list(), []);
});

Deno.test("unknown names and clearing an unset failpoint are refused with gofail's errors", () => {
  disableAll();
  assert.throws(() => enable("raftBeforeSav", "panic"), { message: ErrNoExist });
  assert.throws(() => disable("raftBeforeSave"), { message: ErrDisabled });
  assert.equal(failpoints.on, false);
});

Deno.test("GOFAIL_FAILPOINTS sets every failpoint it lists; a bad one refuses the lot", () => {
  disableAll();
  assert.equal(enableFromEnv(`raftBeforeSave=1*sleep(5);walBeforeSync=return("EIO");`), undefined);
  assert.deepEqual(status("raftBeforeSave"), { terms: "1*sleep(5)", executions: 0 });
  assert.equal(status("walAfterSync"), undefined);
  disableAll();
  assert.equal(enableFromEnv(undefined), undefined);
  assert.equal(failpoints.on, false);
  assert.equal(
    enableFromEnv("raftBeforeSave"),
    `fail to parse failpoint: bad failpoint "raftBeforeSave"`,
  );
  assert.equal(
    enableFromEnv("raftBeforeSave=panik"),
    `failed to enable "raftBeforeSave=panik" (failpoint: could not parse terms)`,
  );
  assert.equal(
    enableFromEnv("nosuchpoint=panic"),
    `failed to enable "nosuchpoint=panic" (failpoint: failpoint does not exist)`,
  );
  disableAll();
});

Deno.test("a return raises the error it names at the site; an errno reads as the OS's", async () => {
  disableAll();
  enable("walBeforeSync", `1*return("EIO")`);
  await assert.rejects(() => hit("walBeforeSync"), (err: Error & { code?: string }) => {
    assert.equal(err.message, "Input/output error (os error 5)");
    assert.equal(err.code, "EIO");
    return true;
  });
  // The count is spent: the next pass does nothing.
  await hit("walBeforeSync");
  enable("beforeCommit", `return("ENOSPC")`);
  assert.throws(() => hitSync("beforeCommit"), {
    message: "No space left on device (os error 28)",
  });
  enable("raftBeforeSave", "return");
  await assert.rejects(() => hit("raftBeforeSave"), { message: "failpoint raftBeforeSave: error" });
  enable("raftBeforeSave", `return("disk on fire")`);
  assert.deepEqual(await evaluate("raftBeforeSave"), { value: "disk on fire" });
  disableAll();
});

Deno.test("sleep delays an asynchronous site and blocks a synchronous one", async () => {
  disableAll();
  enable("raftBeforeSave", "sleep(30)");
  let t = performance.now();
  await hit("raftBeforeSave");
  assert.ok(performance.now() - t >= 29, `slept ${performance.now() - t} ms`);
  enable("beforeCommit", `sleep("30ms")`);
  t = performance.now();
  hitSync("beforeCommit");
  assert.ok(performance.now() - t >= 29, `blocked ${performance.now() - t} ms`);
  disableAll();
});
