// Garbage collections as the members print them to their logs, summed over a stretch of the log:
// the time the request path spends collecting, the GC threads' concurrent marking left out on
// both sides. V8's `--trace-gc` (etcd-ts runs with DENO_V8_FLAGS=--trace-gc): the main thread's
// pauses and incremental marking steps; Go's gctrace (etcd runs with GODEBUG=gctrace=1): the
// stop-the-world phases' and the mark assists' CPU time.

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

// "gc 12 @3.1s 1%: 0.02+1.5+0.03 ms clock, 0.08+0.4/1.2/0.9+0.1 ms cpu, ...": etcd under
// GODEBUG=gctrace=1. Clock: stop-the-world, concurrent mark, stop-the-world; cpu: the same
// phases with the mark's assist/background/idle parts.
const GO_LINE = /^gc \d+ @[\d.]+s \d+%: ([\d.]+)\+[\d.]+\+([\d.]+) ms clock, ([\d.+/]+) ms cpu/;

/** etcd's collections as gctrace prints them: CPU ms of the pauses and assists, longest pause. */
export function parseGoGcTrace(text: string): GcStats {
  const stats: GcStats = { collections: 0, totalMs: 0, maxMs: 0 };
  for (const line of text.split("\n")) {
    const m = GO_LINE.exec(line);
    if (!m) continue;
    stats.collections++;
    // as for V8, only what the request path pays: the pauses and the mutators' mark assists
    const [stw1, assist, , , stw2] = m[3].split(/[+/]/).map(Number);
    stats.totalMs += stw1 + assist + stw2;
    stats.maxMs = Math.max(stats.maxMs, Number(m[1]), Number(m[2]));
  }
  return stats;
}
