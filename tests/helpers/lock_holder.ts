// Helper process for tests/integration/storage/lock_test.ts (not a test): locks the member dir
// given as the first argument, prints "locked", and holds the lock until killed. On failure
// prints the error to stderr and exits 1, as the server does.

import { lockDataDir } from "../../src/storage/mod.ts";

try {
  lockDataDir(Deno.args[0]);
} catch (err) {
  console.error((err as Error).message);
  Deno.exit(1);
}
console.log("locked");
setInterval(() => {}, 1 << 30);
