// What a person reads after a run: operations, faults by kind, violations and lost writes,
// and what could not be checked; and the totals over several runs.

import type { FaultKind } from "./faults.ts";
import type { RoundReport } from "./round.ts";

/** Faults by kind, failed attempts included (marked). */
export function faultCounts(
  reports: RoundReport[],
): Map<FaultKind, { ok: number; failed: number }> {
  const counts = new Map<FaultKind, { ok: number; failed: number }>();
  for (const f of reports.flatMap((r) => r.faults)) {
    const c = counts.get(f.kind) ?? { ok: 0, failed: 0 };
    if (f.error) c.failed++;
    else c.ok++;
    counts.set(f.kind, c);
  }
  return counts;
}

function describeCounts(reports: RoundReport[]): string {
  const parts = [...faultCounts(reports)].sort().map(([kind, c]) =>
    `${kind} ${c.ok}${c.failed ? ` (+${c.failed} failed)` : ""}`
  );
  return parts.join(", ") || "none";
}

/** A few lines for one round or run; every fault with what it did when `allFaults` (or it broke). */
export function describeRound(label: string, r: RoundReport, allFaults = false): string {
  const v = r.verdict;
  const lines = [
    `${label}: ${v.operations} operations (${v.unknown} unknown), ${v.watches} watches, ` +
    `${v.events} events, ${r.faults.length} faults in ${r.seconds.toFixed(0)} s ` +
    `(checked in ${(v.checkMs / 1000).toFixed(1)} s)`,
    `  faults: ${describeCounts([r])}`,
    `  violations: ${v.violations.length}, lost acknowledged writes: ${v.lost.length}`,
  ];
  for (const f of r.faults.filter((f) => f.error)) {
    lines.push(`  fault ${f.kind} on m${f.member} failed: ${f.error}`);
  }
  for (const m of r.missing) lines.push(`  not injected: ${m}`);
  for (const text of [...v.violations, ...v.lost].slice(0, 20)) lines.push(`  ! ${text}`);
  // When something broke, the faults, on the clients' clock as the operations are.
  if (allFaults || failed(r)) {
    for (const f of r.faults) {
      lines.push(
        `  fault at ${f.at.toFixed(0)} ms: ${f.kind} on m${f.member} ` +
          `for ${(f.ms / 1000).toFixed(1)} s: ${f.note}`,
      );
    }
  }
  for (const p of v.problems) lines.push(`  problem: ${p}`);
  return lines.join("\n");
}

export function describeTotals(reports: RoundReport[], unit = "runs"): string {
  const sum = (f: (r: RoundReport) => number) => reports.reduce((n, r) => n + f(r), 0);
  return [
    `total: ${reports.length} ${unit}, ${sum((r) => r.verdict.operations)} operations ` +
    `(${sum((r) => r.verdict.unknown)} unknown), ${sum((r) => r.verdict.watches)} watches, ` +
    `${sum((r) => r.faults.length)} faults`,
    `  faults: ${describeCounts(reports)}`,
    `  violations: ${sum((r) => r.verdict.violations.length)}, ` +
    `lost acknowledged writes: ${sum((r) => r.verdict.lost.length)}, ` +
    `problems: ${sum((r) => r.verdict.problems.length)}`,
  ].join("\n");
}

/**
 * Whether a round broke a guarantee, lost a write, or met a problem (a member that stopped on
 * its own, a cluster that did not recover, a lease that outlived its TTL): each is a finding,
 * whose data dirs and logs are kept.
 */
export function failed(r: RoundReport): boolean {
  const v = r.verdict;
  return v.violations.length > 0 || v.lost.length > 0 || v.problems.length > 0;
}
