// deno task soak [--minutes N] [--round-seconds S] [--faults ...] [flags of robustness]
// One cluster for as long as asked: rounds of traffic and faults, each round's record checked
// (each on its own keys, starting at the revision where the last ended), the store compacted
// between rounds, and every member's resident memory sampled all along. Prints each round's
// operations, faults, violations and RSS; at the end flags memory that kept growing.
// By default the faults keep the processes alive (a restart would reset the memory watched);
// --faults chooses others.

import { prng } from "../../helpers/random.ts";
import { Cluster } from "./cluster.ts";
import { KEEPING_PROCESSES } from "./faults.ts";
import { parseCommon } from "./main.ts";
import { Network } from "./net.ts";
import { describeRound, describeTotals, failed } from "./report.ts";
import { type RoundReport, runRound } from "./round.ts";
import { growth, RssSampler } from "./rss.ts";

const SAMPLE_MS = 10_000;

async function main(): Promise<number> {
  const { values, common } = parseCommon(Deno.args, ["minutes", "round-seconds"]);
  const minutes = Number(values.minutes ?? 10);
  const roundSeconds = Number(values["round-seconds"] ?? 60);
  const kinds = common.kinds.length > 0 ? common.kinds : KEEPING_PROCESSES;
  const dir = await Deno.makeTempDir({ prefix: "etcd-ts-soak-" });
  const net = await Network.create(3);
  const cluster = new Cluster(net, dir, { snapshotCount: common.snapshotCount });
  const sampler = new RssSampler(cluster, SAMPLE_MS);
  const reports: RoundReport[] = [];
  console.log(
    `soak: ${minutes} min in rounds of ${roundSeconds} s, seed ${common.seed}, ` +
      `faults ${kinds.join(", ")}; data dirs and logs in ${dir}`,
  );
  try {
    await cluster.startAll();
    await cluster.healthy();
    const end = performance.now() + minutes * 60_000;
    let revision = 1;
    for (let round = 0; performance.now() < end; round++) {
      const seconds = Math.max(10, Math.min(roundSeconds, (end - performance.now()) / 1000));
      const seed = common.seed + round;
      const options = { ...common, kinds, seconds, seed, round };
      const report = await runRound(
        cluster,
        options,
        { revision, kvs: [], leases: [] },
        prng(seed),
      );
      reports.push(report);
      revision = report.revision;
      const at = (sampler.seconds() / 60).toFixed(1);
      console.log(describeRound(`[${at} min] round ${round + 1}`, report));
      console.log(`  RSS: ${describeRss(cluster)}`);
      // A clean round's record is not needed again; a soak makes many.
      if (!failed(report)) await Deno.remove(`${dir}/round${round}.json`);
      await cluster.etcdctl("compact", String(revision), "--physical");
    }
  } finally {
    await sampler.stop();
    await cluster.close();
    await net.close();
  }
  console.log(describeTotals(reports, "rounds"));
  const flagged = growth(sampler.samples);
  for (const line of flagged.lines) console.log(line);
  await Deno.writeTextFile(`${dir}/rss.csv`, sampler.csv());
  const bad = reports.some(failed) || flagged.growing;
  if (bad) console.log(`kept for a look: ${dir} (rss.csv: every sample)`);
  else await Deno.remove(dir, { recursive: true });
  return bad ? 1 : 0;
}

function describeRss(cluster: Cluster): string {
  return cluster.members.map((m) => {
    const rss = m.proc?.rss();
    return `${m.name} ${rss === undefined ? "-" : `${(rss / 2 ** 20).toFixed(0)} MB`}`;
  }).join(", ");
}

if (import.meta.main) Deno.exit(await main());
