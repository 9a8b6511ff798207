// The benchmark table: windows of each (workload, target) merged, then ratios between targets
// (etcd-ts/etcd, and mTLS/plain when the bench ran over TLS too).

import type { LoadResult } from "./load.ts";
import { longer } from "./stalls.ts";

export interface Measurement extends LoadResult {
  serverCpuSeconds: number;
  generatorCpuSeconds: number;
  peakRssBytes: number;
  /** Longest event-loop stall an etcd-ts member reported in the window, less the time it waited
   * for a CPU (NaN for etcd), and as the wall clock saw it. */
  stallMs: number;
  stallWallMs: number;
}

export interface Summary {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuPer1kOps: number;
  peakRssMiB: number;
  generatorCpuUsPerOp: number;
  stallMs: number;
  stallWallMs: number;
  errors: number;
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
  let ops = 0, elapsed = 0, serverCpu = 0, genCpu = 0, rss = 0, errors = 0;
  let stall = NaN, stallWall = NaN;
  const hist = new Map<number, number>();
  for (const w of windows) {
    ops += w.ops;
    elapsed += w.elapsedSeconds;
    serverCpu += w.serverCpuSeconds;
    genCpu += w.generatorCpuSeconds;
    rss = Math.max(rss, w.peakRssBytes);
    errors += w.errors;
    stall = longer(stall, w.stallMs);
    stallWall = longer(stallWall, w.stallWallMs);
    for (const [us, n] of w.histogram) hist.set(us, (hist.get(us) ?? 0) + n);
  }
  return {
    opsPerSecond: ops / elapsed,
    p50Ms: percentile(hist, ops, 0.5),
    p99Ms: percentile(hist, ops, 0.99),
    serverCpuPer1kOps: (serverCpu / ops) * 1000,
    peakRssMiB: rss / (1024 * 1024),
    generatorCpuUsPerOp: (genCpu / ops) * 1e6,
    stallMs: stall,
    stallWallMs: stallWall,
    errors,
  };
}

const fmt = (v: number, digits: number) => Number.isFinite(v) ? v.toFixed(digits) : "-";

/** A row comparing target `of` with target `to` (labels as in the table). */
export interface Ratio {
  label: string;
  of: string;
  to: string;
}

export function printReport(
  workloads: string[],
  targets: string[],
  ratios: Ratio[],
  all: Map<string, Measurement[]>,
  setup: Record<string, string | number>,
): void {
  const header = [
    "workload",
    "target",
    "ops/s",
    "p50 ms",
    "p99 ms",
    "server CPU s/1k ops",
    "peak RSS MiB",
    "stall ms",
    "stall wall ms",
    "gen CPU us/op",
    "errors",
  ];
  const rows: string[][] = [];
  for (const workload of workloads) {
    const s = new Map<string, Summary>();
    for (const target of targets) {
      const windows = all.get(`${workload}\0${target}`);
      if (!windows) continue;
      const sum = summarize(windows);
      s.set(target, sum);
      rows.push([
        workload,
        target,
        fmt(sum.opsPerSecond, 0),
        fmt(sum.p50Ms, 2),
        fmt(sum.p99Ms, 2),
        fmt(sum.serverCpuPer1kOps, 3),
        fmt(sum.peakRssMiB, 1),
        fmt(sum.stallMs, 0),
        fmt(sum.stallWallMs, 0),
        fmt(sum.generatorCpuUsPerOp, 1),
        String(sum.errors),
      ]);
    }
    for (const ratio of ratios) {
      const a = s.get(ratio.of), b = s.get(ratio.to);
      if (!a || !b) continue;
      rows.push([
        workload,
        ratio.label,
        fmt(a.opsPerSecond / b.opsPerSecond, 2) + "x",
        fmt(a.p50Ms / b.p50Ms, 2) + "x",
        fmt(a.p99Ms / b.p99Ms, 2) + "x",
        fmt(a.serverCpuPer1kOps / b.serverCpuPer1kOps, 2) + "x",
        fmt(a.peakRssMiB / b.peakRssMiB, 2) + "x",
        "",
        "",
        "",
        "",
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(
    Object.entries(setup).map(([k, v]) => `${k}=${v}`).join(" "),
  );
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}
