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
  for (const name of ["goroutine", "block", "mutex", "threadcreate", "trace"]) {
    const res = await app().fetch(new Request(`http://m/debug/pprof/${name}`));
    assert.equal(res.status, 404, name);
    assert.equal(await res.text(), "Unknown profile\n");
  }
});

Deno.test("pprof: allocs samples the window's allocations, collected ones included", async () => {
  const a = app();
  const pending = a.fetch(new Request("http://m/debug/pprof/allocs?seconds=1"));
  const busy = await a.fetch(new Request("http://m/debug/pprof/allocs?seconds=1"));
  assert.equal(busy.status, 500);
  // Garbage made while sampling, under a function of a name to find: none of it is alive when
  // the profile is taken, so it shows only because collected objects are kept.
  function makeGarbage(): number {
    let n = 0;
    for (let i = 0; i < 20_000; i++) n += new Array(64).fill(i).length;
    return n;
  }
  assert.equal(makeGarbage(), 20_000 * 64);
  const res = await pending;
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-disposition") ?? "", /allocs\.heapprofile/);
  const profile = await res.json();
  const bytesUnder = (node: HeapNode, name: string, inside = false): number => {
    const here = inside || node.callFrame.functionName === name;
    return (here ? node.selfSize : 0) +
      node.children.reduce((sum, c) => sum + bytesUnder(c, name, here), 0);
  };
  // 20,000 arrays of 64 elements: megabytes, of which a sample at 32 KiB intervals sees most.
  assert.ok(bytesUnder(profile.head, "makeGarbage") > 1_000_000);
});

interface HeapNode {
  callFrame: { functionName: string };
  selfSize: number;
  children: HeapNode[];
}
