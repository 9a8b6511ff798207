// The bench's allocation summary: each sampled byte goes to the nearest project folder on its
// stack (runtime code called from src/ counts for that folder) and to its own function.
import assert from "node:assert/strict";
import { summarizeAllocs } from "../../scripts/bench/allocs.ts";

const node = (functionName: string, url: string, selfSize: number, children: unknown[] = []) => ({
  callFrame: { functionName, url, lineNumber: 9 },
  selfSize,
  children,
});

Deno.test("allocation summary: bytes by nearest src folder and by function", () => {
  const p = {
    head: node("(root)", "", 0, [
      node("put", "file:///r/src/server/kv.ts", 300, [
        node("subarray", "", 100), // a runtime call made by src/server
        node("encode", "file:///r/src/pb/hot.ts", 50),
      ]),
      node("tick", "ext:core/01_core.js", 25),
    ]),
  };
  const s = summarizeAllocs(p as never);
  assert.equal(s.bytes, 475);
  assert.deepEqual(s.folders, [
    ["src/server", 400],
    ["src/pb", 50],
    ["runtime (no src caller)", 25],
  ]);
  assert.deepEqual(s.top[0], ["put src/server/kv.ts:10", 300]);
  assert.deepEqual(s.top[1], ["subarray", 100]);
});
