// One fault run from scratch: a fresh network and three fresh members, one round of traffic
// and faults, everything torn down after. The data dirs and logs stay when a guarantee broke.

import { prng } from "../../helpers/random.ts";
import { Cluster } from "./cluster.ts";
import { Network } from "./net.ts";
import { failed } from "./report.ts";
import { type RoundOptions, type RoundReport, runRound } from "./round.ts";

export interface RunOptions extends Omit<RoundOptions, "round"> {
  /** --snapshot-count of the members: low, so that snapshots are made and sent. */
  snapshotCount: number;
}

export interface RunReport extends RoundReport {
  /** Where the members' data dirs and logs are, when they were kept. */
  kept?: string;
}

export const MEMBERS = 3;

export async function faultRun(opts: RunOptions): Promise<RunReport> {
  const dir = await Deno.makeTempDir({ prefix: "etcd-ts-robustness-" });
  const net = await Network.create(MEMBERS);
  const cluster = new Cluster(net, dir, { snapshotCount: opts.snapshotCount });
  let report: RunReport | undefined;
  try {
    await cluster.startAll();
    await cluster.healthy();
    const initial = { revision: 1, kvs: [], leases: [] };
    report = await runRound(cluster, { ...opts, round: 0 }, initial, prng(opts.seed));
    return report;
  } finally {
    await cluster.close();
    await net.close();
    if (report && !failed(report)) await Deno.remove(dir, { recursive: true });
    else if (report) report.kept = dir;
    else console.error(`data dirs and logs kept in ${dir}`);
  }
}
