// The benchmark's tables: the windows of each (case, target) merged into one summary, a row per
// target and a ratio row etcd-ts/etcd; then the suite's single figures (RSS after a preload,
// start-up times, the longest event-loop stall) with their ratios.

import type { LoadResult } from "./load_core.ts";

export interface Measurement extends LoadResult {
  serverCpuSeconds: number;
  generatorCpuSeconds: number;
  peakRssBytes: number;
  /** Main-thread GC time over the window's time (0..1): the busiest member's. */
  gcShare?: number;
  /** The longest single GC pause or marking step in the window, ms. */
  gcMaxPauseMs?: number;
}

export interface Summary {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuUsPerOp: number;
  peakRssMiB: number;
  generatorCpuUsPerOp: number;
  gcPercent: number;
  gcMaxPauseMs: number;
  errors: number;
  /** Each workload counter per second. */
  counterRates: Record<string, number>;
}

export const TARGETS = ["etcd-ts", "etcd"] as const;

/** One workload of one scenario, measured on each target. */
export interface CaseResult {
  suite: string;
  scenario: string;
  label: string;
  /** What one op is ("puts", "events", "keep-alives"). */
  unit: string;
  byTarget: Map<string, Summary>;
}

/** A single value per target (RSS after a preload, a restart's time). */
export interface Figure {
  suite: string;
  name: string;
  unit: string;
  values: Map<string, number>;
}

export interface Results {
  cases: CaseResult[];
  figures: Figure[];
}

export function percentile(hist: Map<number, number>, total: number, q: number): number {
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (const us of [...hist.keys()].sort((a, b) => a - b)) {
    seen += hist.get(us)!;
    if (seen >= rank) return us / 1000;
  }
  return NaN;
}

const maxOf = (xs: (number | undefined)[]) =>
  xs.reduce<number>((m, x) => x === undefined || !(x >= m) ? m : x, NaN);

export function summarize(windows: Measurement[]): Summary {
  let ops = 0, elapsed = 0, serverCpu = 0, genCpu = 0, rss = 0, errors = 0, timed = 0, gc = 0;
  const hist = new Map<number, number>();
  const counters: Record<string, number> = {};
  for (const w of windows) {
    ops += w.ops;
    elapsed += w.elapsedSeconds;
    serverCpu += w.serverCpuSeconds;
    genCpu += w.generatorCpuSeconds;
    rss = Math.max(rss, w.peakRssBytes);
    errors += w.errors;
    gc += (w.gcShare ?? NaN) * w.elapsedSeconds;
    for (const [us, n] of w.histogram) {
      hist.set(us, (hist.get(us) ?? 0) + n);
      timed += n;
    }
    for (const [k, v] of Object.entries(w.counters)) counters[k] = (counters[k] ?? 0) + v;
  }
  return {
    opsPerSecond: ops / elapsed,
    p50Ms: percentile(hist, timed, 0.5),
    p99Ms: percentile(hist, timed, 0.99),
    serverCpuUsPerOp: (serverCpu / ops) * 1e6,
    peakRssMiB: rss / (1024 * 1024),
    generatorCpuUsPerOp: (genCpu / ops) * 1e6,
    gcPercent: (gc / elapsed) * 100,
    gcMaxPauseMs: maxOf(windows.map((w) => w.gcMaxPauseMs)),
    errors,
    counterRates: Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, v / elapsed])),
  };
}

export const fmt = (v: number, digits: number) => Number.isFinite(v) ? v.toFixed(digits) : "-";
const ratio = (a: number, b: number) => fmt(a / b, 2) + "x";

const CASE_HEADER = [
  "case",
  "target",
  "ops/s",
  "p50 ms",
  "p99 ms",
  "CPU us/op",
  "peak RSS MiB",
  "GC %",
  "GC max ms",
  "gen us/op",
  "errors",
  "counters",
];

function caseRows(c: CaseResult): string[][] {
  const rows: string[][] = [];
  const label = `${c.scenario}: ${c.label} (${c.unit})`;
  for (const [target, s] of c.byTarget) {
    const counters = Object.entries(s.counterRates).map(([k, v]) => `${k} ${fmt(v, 0)}/s`);
    rows.push([
      label,
      target,
      fmt(s.opsPerSecond, 0),
      fmt(s.p50Ms, 2),
      fmt(s.p99Ms, 2),
      fmt(s.serverCpuUsPerOp, 1),
      fmt(s.peakRssMiB, 1),
      fmt(s.gcPercent, 1),
      fmt(s.gcMaxPauseMs, 1),
      fmt(s.generatorCpuUsPerOp, 1),
      String(s.errors),
      counters.join(", "),
    ]);
  }
  const a = c.byTarget.get("etcd-ts"), b = c.byTarget.get("etcd");
  if (a && b) {
    rows.push([
      label,
      "etcd-ts/etcd",
      ratio(a.opsPerSecond, b.opsPerSecond),
      ratio(a.p50Ms, b.p50Ms),
      ratio(a.p99Ms, b.p99Ms),
      ratio(a.serverCpuUsPerOp, b.serverCpuUsPerOp),
      ratio(a.peakRssMiB, b.peakRssMiB),
      "",
      "",
      "",
      "",
      "",
    ]);
  }
  return rows;
}

/** Left-aligns the first `left` columns, right-aligns the rest. */
export function formatTable(header: string[], rows: string[][], left = 2): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function figureRows(figures: Figure[]): string[][] {
  return figures.map((f) => {
    const a = f.values.get("etcd-ts") ?? NaN, b = f.values.get("etcd") ?? NaN;
    const digits = f.unit === "MiB" || f.unit === "ms" ? 1 : 2;
    return [`${f.name} (${f.unit})`, fmt(a, digits), fmt(b, digits), ratio(a, b)];
  });
}

/** One suite's tables: its cases, then its figures. */
export function suiteTables(suite: string, results: Results): string[] {
  const cases = results.cases.filter((c) => c.suite === suite);
  const figures = results.figures.filter((f) => f.suite === suite);
  const out: string[] = [];
  if (cases.length > 0) out.push(...formatTable(CASE_HEADER, cases.flatMap(caseRows)), "");
  if (figures.length > 0) {
    const header = ["figure", "etcd-ts", "etcd", "etcd-ts/etcd"];
    out.push(...formatTable(header, figureRows(figures), 1), "");
  }
  return out;
}
