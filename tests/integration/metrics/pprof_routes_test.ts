// The /debug/pprof/ routes in-process: Go's answers to a second CPU profile while one runs and
// to a profile name V8 has no counterpart for. With the integration tests because profiling
// needs the inspector (--allow-sys), which unit tests are not given.
import assert from "node:assert/strict";
import { Hono } from "hono";
import { addPprofRoutes } from "../../../src/api/mod.ts";

function app(): Hono {
  const a = new Hono();
  addPprofRoutes(a);
  return a;
}

Deno.test("pprof: one CPU profile at a time; the second gets Go's refusal", async () => {
  const a = app();
  const first = a.fetch(new Request("http://m/debug/pprof/profile?seconds=1"));
  const second = await a.fetch(new Request("http://m/debug/pprof/profile?seconds=1"));
  assert.equal(second.status, 500);
  assert.equal(
    await second.text(),
    "Could not enable CPU profiling: cpu profiling already in use\n",
  );
  const res = await first;
  assert.equal(res.status, 200);
  const profile = await res.json();
  assert.ok(profile.endTime > profile.startTime);
  // Once done, the next one may run.
  const third = a.fetch(new Request("http://m/debug/pprof/profile?seconds=1"));
  assert.equal((await third).status, 200);
});

Deno.test("pprof: Go's names without a V8 profile answer 404 Unknown profile", async () => {
  for (const name of ["goroutine", "block", "mutex", "threadcreate", "allocs", "trace"]) {
    const res = await app().fetch(new Request(`http://m/debug/pprof/${name}`));
    assert.equal(res.status, 404, name);
    assert.equal(await res.text(), "Unknown profile\n");
  }
});
