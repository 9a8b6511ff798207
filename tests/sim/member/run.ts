// The whole-member simulation's runner: seeds one after another, a line per failure with the
// command that replays it, and the failing seed's trace, violations and the members' last log
// lines; `--seed S --trace` prints a seed's whole trace as it runs (message deliveries too).

import { type MemberSimResult, simulateMembers } from "./simulate.ts";

export interface MemberRunOptions {
  start: number;
  seeds: number;
  trace: boolean;
  /** Shorter runs with denser faults (see MemberSimOptions.quick). */
  quick?: boolean;
  /** Stop after this many failures. */
  maxFailures?: number;
  print?: (line: string) => void;
}

export function replayCommand(seed: number, quick: boolean): string {
  return `deno task sim${quick ? " --quick" : ""} --seed ${seed} --trace`;
}

export function report(r: MemberSimResult): string[] {
  return [
    `seed ${r.seed} FAILED (trace hash ${r.traceHash}):`,
    ...r.violations.map((v) => `  violation: ${v}`),
    `  replay: ${replayCommand(r.seed, r.quick)}`,
    `  trace (without message deliveries):`,
    ...r.trace.map((l) => `    ${l}`),
    `  the members' last log lines:`,
    ...r.logs.slice(-80).map((l) => `    ${l}`),
  ];
}

/** Runs the seeds; resolves with the failing ones. */
export async function runMemberSeeds(opts: MemberRunOptions): Promise<number[]> {
  const print = opts.print ?? ((l: string) => console.log(l));
  const failed: number[] = [];
  const began = performance.now();
  const totals = { operations: 0, acknowledged: 0, faults: 0, snapshots: 0, events: 0 };
  const byKind = new Map<string, number>();
  let ran = 0;
  for (let seed = opts.start; seed < opts.start + opts.seeds; seed++) {
    const r = await simulateMembers({
      seed,
      print: opts.trace ? print : undefined,
      logLevel: opts.trace ? "debug" : "info",
      quick: opts.quick,
    });
    ran++;
    if (ran % 500 === 0) {
      const secs = (performance.now() - began) / 1000;
      print(`... ${ran} seeds, ${failed.length} failed, ${secs.toFixed(0)} s`);
    }
    totals.operations += r.stats.operations;
    totals.acknowledged += r.stats.acknowledged;
    for (const [kind, n] of Object.entries(r.stats.faults)) {
      totals.faults += n ?? 0;
      byKind.set(kind, (byKind.get(kind) ?? 0) + (n ?? 0));
    }
    totals.snapshots += r.stats.snapshotsSent;
    totals.events += r.stats.events;
    if (!r.ok) {
      failed.push(seed);
      report(r).forEach((l) => print(l));
      if (failed.length >= (opts.maxFailures ?? 20)) break;
    } else if (opts.trace) {
      print(`seed ${seed} ok (trace hash ${r.traceHash}): ${JSON.stringify(r.stats)}`);
    }
  }
  const secs = (performance.now() - began) / 1000;
  print(
    `${ran} whole-member seeds from ${opts.start}: ${ran - failed.length} passed, ` +
      `${failed.length} failed` +
      `${failed.length ? ` (${failed.join(", ")})` : ""}; ${totals.operations} operations ` +
      `(${totals.acknowledged} acknowledged), ${totals.faults} faults, ${totals.snapshots} ` +
      `snapshots sent, ${totals.events} events; ${secs.toFixed(1)} s ` +
      `(${(secs * 1000 / ran).toFixed(0)} ms per seed)`,
  );
  const kinds = [...byKind].sort(([a], [b]) => a < b ? -1 : 1).map(([k, n]) => `${k} ${n}`);
  print(`faults by kind: ${kinds.join(", ")}`);
  return failed;
}
