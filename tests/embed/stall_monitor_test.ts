import assert from "node:assert/strict";
import { startStallMonitor } from "../../src/embed/stall_monitor.ts";

interface Report {
  at: number;
  maxMs: number;
  ownMs: number;
}

function reports(path: string): Report[] {
  return Deno.readTextFileSync(path).trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("stall monitor: a synchronous stretch that holds the event loop is reported", () => {
  const dir = Deno.makeTempDirSync({ prefix: "stall-monitor-" });
  try {
    const path = `${dir}/stalls`;
    const stop = startStallMonitor(path);
    const until = performance.now() + 150;
    while (performance.now() < until) { /* hold the one JavaScript thread */ }
    stop();
    const lines = reports(path);
    const worst = Math.max(...lines.map((r) => r.maxMs));
    // The timer asked to run every 10 ms and could not for 150 ms.
    assert.ok(worst >= 130, `longest stall ${worst} ms`);
    for (const r of lines) assert.ok(r.ownMs <= r.maxMs, `own ${r.ownMs} > wall ${r.maxMs}`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
