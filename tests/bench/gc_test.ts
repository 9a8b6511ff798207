// The bench's GC figures come from the members' own traces: lines as V8 (--trace-gc) and Go
// (GODEBUG=gctrace=1) print them, summed as the request path pays them.

import assert from "node:assert/strict";
import { parseGoGcTrace, parseTraceGc } from "../../scripts/bench/gc.ts";
import { type Measurement, summarize } from "../../scripts/bench/report.ts";

const V8_LOG = [
  "2026-12-07 17:03:12.816319 I | embed: name = default",
  "[31788:0x5620a690f000]      393 ms: Scavenge 4.3 (4.5) -> 4.3 (5.5) MB, pooled: 0.0 MB, " +
  "4.56 / 0.00 ms (average mu = 1.000, current mu = 1.000) allocation failure; ",
  "[31788:0x5620a690f000]     6665 ms: Incremental Mark-Compact 31.1 (40.9) -> 18.7 (39.6) MB, " +
  "pooled: 1.2 MB, 69.13 / 0.00 ms (+ 30.7 ms in 45 steps since start of marking, biggest step " +
  "28.2 ms, walltime since start of marking 240 ms) (average mu = 0.985, current mu = 0.985) " +
  "finalize incremental marking via stack guard; GC in old space requested",
].join("\n");

const GO_LOG = [
  "gc 1 @0.044s 0%: 0.063+3.9+0.002 ms clock, 0.12+0/0.25/3.7+0.005 ms cpu, 4->4->2 MB, " +
  "4 MB goal, 0 MB stacks, 0 MB globals, 2 P",
  "2026-12-07 17:21:30.1 I | etcdserver: published",
  "gc 2 @0.079s 1%: 0.25+7.2+0.5 ms clock, 0.50+0.26/1.0/0+0.006 ms cpu, 4->4->2 MB, " +
  "4 MB goal, 0 MB stacks, 0 MB globals, 2 P",
].join("\n");

Deno.test("V8 trace: pauses plus incremental steps; the longest pause or step", () => {
  const s = parseTraceGc(V8_LOG);
  assert.equal(s.collections, 2);
  assert.ok(Math.abs(s.totalMs - (4.56 + 69.13 + 30.7)) < 1e-9);
  assert.equal(s.maxMs, 69.13);
});

Deno.test("Go gctrace: stop-the-world and assist CPU, not the mark workers'", () => {
  const s = parseGoGcTrace(GO_LOG);
  assert.equal(s.collections, 2);
  assert.ok(Math.abs(s.totalMs - ((0.12 + 0 + 0.005) + (0.50 + 0.26 + 0.006))) < 1e-9);
  assert.equal(s.maxMs, 0.5);
});

Deno.test("no trace lines: nothing collected", () => {
  assert.equal(parseTraceGc(GO_LOG).collections, 0);
  assert.equal(parseGoGcTrace(V8_LOG).collections, 0);
});

function window(over: Partial<Measurement>): Measurement {
  return {
    ops: 0,
    errors: 0,
    elapsedSeconds: 1,
    histogram: [],
    counters: {},
    serverCpuSeconds: 0,
    generatorCpuSeconds: 0,
    peakRssBytes: 0,
    gcMs: 0,
    gcMaxPauseMs: NaN,
    stallMs: NaN,
    stallWallMs: NaN,
    ...over,
  };
}

Deno.test("windows merged: rates over the summed time, percentiles over both histograms", () => {
  const s = summarize([
    window({ ops: 98, histogram: [[1000, 98]], serverCpuSeconds: 0.5, gcMs: 50 }),
    window({
      ops: 2,
      histogram: [[250_000, 2]],
      serverCpuSeconds: 0.5,
      gcMs: 150,
      gcMaxPauseMs: 40,
      stallMs: 12,
      counters: { sockets: 4 },
    }),
  ]);
  assert.equal(s.opsPerSecond, 50);
  assert.equal(s.p50Ms, 1);
  assert.equal(s.p99Ms, 250);
  assert.equal(s.serverCpuUsPerOp, 10_000);
  assert.ok(Math.abs(s.gcPercent - 20) < 1e-9);
  assert.equal(s.gcMaxPauseMs, 40);
  assert.equal(s.stallMs, 12);
  assert.deepEqual(s.counterRates, { sockets: 2 });
});
