// Checks a kept record again (after a change to the checker, or to look at a violation):
//   deno run -A tests/robustness/run/recheck.ts <dir>/round<N>.json [initial revision]
// A run's first round starts at revision 1; a soak round where the previous one ended.

import { SHORT_TTL } from "./round.ts";
import { verify } from "./verify.ts";
import type { WorkloadResult } from "./workload.ts";

if (import.meta.main) {
  const [file, from = "1"] = Deno.args;
  const record: WorkloadResult = JSON.parse(await Deno.readTextFile(file));
  const v = verify(record, { revision: Number(from), kvs: [], leases: [] }, SHORT_TTL);
  console.log(
    `${v.operations} operations (${v.unknown} unknown), ${v.watches} watches, ${v.events} ` +
      `events, checked in ${(v.checkMs / 1000).toFixed(1)} s`,
  );
  for (const line of [...v.violations, ...v.lost, ...v.problems]) console.log(`  ${line}`);
  Deno.exit(v.violations.length + v.lost.length > 0 ? 1 : 0);
}
