// The benchmark's tables: the windows of each (case, target) merged into one summary, a row per
// target and the ratio rows (etcd-ts/etcd; with --tls and --baseline also mTLS/plain and this
// etcd-ts against the baseline); then the suite's single figures (RSS after a preload, start-up
// and recovery times) with the same ratios.

import type { LoadResult } from "./load_core.ts";
import { longer } from "./stalls.ts";

export interface Measurement extends LoadResult {
  serverCpuSeconds: number;
  generatorCpuSeconds: number;
  peakRssBytes: number;
  /** Milliseconds the members spent collecting garbage in the window (NaN: not known). */
  gcMs: number;
  /** The longest single GC pause (or marking step) in the window, ms. */
  gcMaxPauseMs: number;
  /** Longest event-loop stall an etcd-ts member reported in the window, less the time it waited
   * for a CPU (NaN for etcd), and as the wall clock saw it. */
  stallMs: number;
  stallWallMs: number;
}

export interface Summary {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuUsPerOp: number;
  peakRssMiB: number;
  generatorCpuUsPerOp: number;
  /** GC time on the request path (gc.ts) over the members' CPU time, percent. */
  gcPercent: number;
  gcMaxPauseMs: number;
  stallMs: number;
  stallWallMs: number;
  errors: number;
  /** Each workload counter per second. */
  counterRates: Record<string, number>;
}

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

/** A row comparing target `of` with target `to` (labels as in the table). */
export interface Ratio {
  label: string;
  of: string;
  to: string;
}

function percentile(hist: Map<number, number>, total: number, q: number): number {
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (const us of [...hist.keys()].sort((a, b) => a - b)) {
    seen += hist.get(us)!;
    if (seen >= rank) return us / 1000;
  }
  return NaN;
}

export function summarize(windows: Measurement[]): Summary {
  let ops = 0, elapsed = 0, serverCpu = 0, genCpu = 0, rss = 0, errors = 0, timed = 0, gc = 0;
  let stall = NaN, stallWall = NaN, gcMax = NaN;
  const hist = new Map<number, number>();
  const counters: Record<string, number> = {};
  for (const w of windows) {
    ops += w.ops;
    elapsed += w.elapsedSeconds;
    serverCpu += w.serverCpuSeconds;
    genCpu += w.generatorCpuSeconds;
    rss = Math.max(rss, w.peakRssBytes);
    errors += w.errors;
    gc += w.gcMs;
    gcMax = longer(gcMax, w.gcMaxPauseMs);
    stall = longer(stall, w.stallMs);
    stallWall = longer(stallWall, w.stallWallMs);
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
    gcPercent: (gc / 1000 / serverCpu) * 100,
    gcMaxPauseMs: gcMax,
    stallMs: stall,
    stallWallMs: stallWall,
    errors,
    counterRates: Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, v / elapsed])),
  };
}

export const fmt = (v: number, digits: number) => Number.isFinite(v) ? v.toFixed(digits) : "-";
const ratio = (a: number, b: number) => Number.isFinite(a / b) ? (a / b).toFixed(2) + "x" : "-";

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
  "stall ms",
  "stall wall ms",
  "gen us/op",
  "errors",
  "counters",
];

function caseRows(c: CaseResult, ratios: Ratio[]): string[][] {
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
      fmt(s.stallMs, 0),
      fmt(s.stallWallMs, 0),
      fmt(s.generatorCpuUsPerOp, 1),
      String(s.errors),
      counters.join(", "),
    ]);
  }
  for (const r of ratios) {
    const a = c.byTarget.get(r.of), b = c.byTarget.get(r.to);
    if (!a || !b) continue;
    rows.push([
      label,
      r.label,
      ratio(a.opsPerSecond, b.opsPerSecond),
      ratio(a.p50Ms, b.p50Ms),
      ratio(a.p99Ms, b.p99Ms),
      ratio(a.serverCpuUsPerOp, b.serverCpuUsPerOp),
      ratio(a.peakRssMiB, b.peakRssMiB),
      ratio(a.gcPercent, b.gcPercent),
      ratio(a.gcMaxPauseMs, b.gcMaxPauseMs),
      ...Array(5).fill(""),
    ]);
  }
  return rows;
}

/** Left-aligns the first `left` columns, right-aligns the rest. */
function formatTable(header: string[], rows: string[][], left = 2): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function figureTable(figures: Figure[], targets: string[], ratios: Ratio[]): string[] {
  const rs = ratios.filter((r) => targets.includes(r.of) && targets.includes(r.to));
  const rows = figures.map((f) => {
    const v = (t: string) => f.values.get(t) ?? NaN;
    const digits = f.unit === "MiB" || f.unit === "ms" ? 1 : 2;
    return [
      `${f.name} (${f.unit})`,
      ...targets.map((t) => fmt(v(t), digits)),
      ...rs.map((r) => ratio(v(r.of), v(r.to))),
    ];
  });
  return formatTable(["figure", ...targets, ...rs.map((r) => r.label)], rows, 1);
}

/** One suite's tables: its cases, then its figures. */
export function suiteTables(
  suite: string,
  results: Results,
  targets: string[],
  ratios: Ratio[],
): string[] {
  const cases = results.cases.filter((c) => c.suite === suite);
  const figures = results.figures.filter((f) => f.suite === suite);
  const out: string[] = [];
  const rows = cases.flatMap((c) => caseRows(c, ratios));
  if (cases.length > 0) out.push(...formatTable(CASE_HEADER, rows), "");
  if (figures.length > 0) out.push(...figureTable(figures, targets, ratios), "");
  return out;
}
