// deno task robustness [--runs N] [--seconds S] [--seed N] [--faults kill,partition,...]
//   [--clients N] [--watchers N] [--failpoint SPEC]... [--snapshot-count N]
// Fault runs of three etcd-ts members in network namespaces (needs root): each run on a fresh
// cluster, its history checked for linearizability and its watches for etcd's guarantees.
// Exits non-zero when any run broke a guarantee, lost an acknowledged write or met a problem
// (a member that stopped on its own, a cluster that did not recover).

import { parseArgs } from "node:util";
import { FAULT_KINDS, type FaultKind } from "./faults.ts";
import { faultRun, type RunReport } from "./fault_run.ts";
import { describeRound, describeTotals, failed } from "./report.ts";

/** The flags both `robustness` and `soak` take, parsed. */
export function parseCommon(args: string[], extra: string[]) {
  const parsed = parseArgs({
    args,
    options: {
      seed: { type: "string" },
      faults: { type: "string" },
      clients: { type: "string" },
      watchers: { type: "string" },
      failpoint: { type: "string", multiple: true },
      "snapshot-count": { type: "string" },
      ...Object.fromEntries(extra.map((name) => [name, { type: "string" as const }])),
    },
  });
  const values = parsed.values as Record<string, string | undefined> & { failpoint?: string[] };
  const kinds = (values.faults?.split(",").filter(Boolean) ?? []) as FaultKind[];
  const unknown = kinds.filter((k) => !FAULT_KINDS.includes(k));
  if (unknown.length) {
    throw new Error(`unknown fault kinds ${unknown.join(", ")}; known: ${FAULT_KINDS.join(", ")}`);
  }
  return {
    values,
    common: {
      seed: Number(values.seed ?? Math.floor(Math.random() * 2 ** 31)),
      kinds,
      clients: Number(values.clients ?? 6),
      watchers: Number(values.watchers ?? 4),
      failpoints: values.failpoint ?? [],
      snapshotCount: Number(values["snapshot-count"] ?? 1000),
    },
  };
}

async function main(): Promise<number> {
  const { values, common } = parseCommon(Deno.args, ["runs", "seconds"]);
  const runs = Number(values.runs ?? 1), seconds = Number(values.seconds ?? 60);
  const reports: RunReport[] = [];
  for (let i = 0; i < runs; i++) {
    const seed = common.seed + i;
    console.log(`run ${i + 1}/${runs}: seed ${seed}, ${seconds} s of faults`);
    const report = await faultRun({ ...common, seed, seconds });
    reports.push(report);
    console.log(describeRound(`run ${i + 1} (seed ${seed})`, report, true));
    if (report.kept) console.log(`  data dirs, logs and the record kept in ${report.kept}`);
  }
  console.log(describeTotals(reports));
  return reports.some(failed) ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
