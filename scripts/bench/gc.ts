// V8's garbage collections as `--trace-gc` prints them (the member runs with
// DENO_V8_FLAGS=--trace-gc), summed over a stretch of the member's log: the main thread's time
// in each collection (its pause plus the incremental marking steps done before it).

export interface GcStats {
  collections: number;
  /** Main-thread milliseconds spent collecting. */
  totalMs: number;
  /** The longest single stretch: a pause or an incremental marking step. */
  maxMs: number;
}

// "... MB, pooled: 0.0 MB, 23.96 / 0.00 ms (+ 0.7 ms in 17 steps since start of marking,
//  biggest step 0.1 ms, ...": the pause, then (incremental marking only) the steps before it
const TIMES =
  /MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms(?: \(\+ ([\d.]+) ms in \d+ steps[^,]*, biggest step ([\d.]+) ms)?/;
const TRACE_LINE = /^\[\d+:0x[0-9a-f]+\]\s+\d+ ms: /;

export function parseTraceGc(text: string): GcStats {
  const stats: GcStats = { collections: 0, totalMs: 0, maxMs: 0 };
  for (const line of text.split("\n")) {
    if (!TRACE_LINE.test(line)) continue;
    const m = TIMES.exec(line);
    if (!m) continue;
    const pause = Number(m[1]), steps = Number(m[2] ?? 0), biggestStep = Number(m[3] ?? 0);
    stats.collections++;
    stats.totalMs += pause + steps;
    stats.maxMs = Math.max(stats.maxMs, pause, biggestStep);
  }
  return stats;
}

/** `go_gc_duration_seconds_sum` and the largest recent pause (quantile 1) from etcd's /metrics. */
export function parseGoGc(metrics: string): { sumSeconds: number; maxSeconds: number } {
  const sum = /^go_gc_duration_seconds_sum ([\d.e+-]+)$/m.exec(metrics);
  const max = /^go_gc_duration_seconds\{quantile="1"\} ([\d.e+-]+)$/m.exec(metrics);
  if (!sum) throw new Error("no go_gc_duration_seconds_sum in /metrics");
  return { sumSeconds: Number(sum[1]), maxSeconds: max ? Number(max[1]) : NaN };
}
