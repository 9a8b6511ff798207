import * as assert from "node:assert/strict";
import { Wait } from "../../src/server/wait.ts";

const timedOut = new Error("request timed out");

Deno.test("Wait: a triggered waiter gets its value; the others time out in order", async () => {
  const w = new Wait<string>(30, () => timedOut);
  const order: string[] = [];
  const a = w.register(1n, undefined).catch((e) => (order.push("a"), e));
  const b = w.register(2n, undefined);
  const c = w.register(3n, undefined).catch((e) => (order.push("c"), e));
  w.trigger(2n, "applied");
  assert.equal(await b, "applied");
  assert.equal(await a, timedOut);
  assert.equal(await c, timedOut);
  assert.deepEqual(order, ["a", "c"]);
  assert.equal(w.size, 0);
});

Deno.test("Wait: a waiter registered later keeps its own full timeout", async () => {
  const w = new Wait<string>(60, () => timedOut);
  const first = w.register(1n, undefined).catch((e) => e);
  assert.equal(await first, timedOut);
  const started = performance.now();
  const second = w.register(2n, undefined).catch((e) => e);
  assert.equal(await second, timedOut);
  assert.ok(performance.now() - started >= 59, "the second waiter waited its own timeout");
});

Deno.test("Wait: failAll rejects everyone and leaves no timer behind", async () => {
  const w = new Wait<string>(60_000, () => timedOut);
  const stopped = new Error("server stopped");
  const pending = [w.register(1n, undefined), w.register(2n, undefined)].map((p) =>
    p.catch((e) => e)
  );
  w.failAll(stopped);
  assert.deepEqual(await Promise.all(pending), [stopped, stopped]);
  assert.equal(w.has(1n), false);
  // Deno's sanitizer fails this test if the 60 s timer were still armed.
});
