// Event-loop stalls of etcd-ts members: each member started by the bench appends, once a second,
// its longest timer delay of that second to a file (ETCD_TS_STALL_LOG, src/embed/stall_monitor.ts).

import { readFileSync } from "node:fs";

/** The longest stall any of `files` recorded in the seconds mostly within [fromMs, toMs] (epoch
 * ms); NaN when none was recorded. */
export function longestStallMs(files: string[], fromMs: number, toMs: number): number {
  let worst = NaN;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue; // no second reported yet
    }
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const { at, maxMs } = JSON.parse(line) as { at: number; maxMs: number };
      // A line covers the second before `at`.
      const middle = at - 500;
      if (middle >= fromMs && middle <= toMs) {
        worst = Number.isNaN(worst) ? maxMs : Math.max(worst, maxMs);
      }
    }
  }
  return worst;
}
