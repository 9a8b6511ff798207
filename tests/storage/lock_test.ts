// The member dir lock within one process; another process is refused in
// tests/integration/storage/lock_test.ts.
import assert from "node:assert/strict";
import { lockDataDir } from "../../src/storage/mod.ts";
import { tempDir } from "../helpers/tmp.ts";

Deno.test("lock: a second lock on the same member dir fails at once", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const member = `${tmp.path}/infra0/member`;
  const lock = lockDataDir(member);
  assert.throws(
    () => lockDataDir(member),
    { message: `data dir ${tmp.path}/infra0 is in use by another process` },
  );
  assert.throws(() => lockDataDir(member, "infra0"), {
    message: "data dir infra0 is in use by another process",
  });
  lock.release();
  lock.release();
  using again = lockDataDir(member);
  assert.equal(again.dir, member);
});
