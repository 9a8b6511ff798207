// Event-loop stalls of etcd-ts members: each member started by the bench appends, once a second,
// its longest timer delays of that second to a file (ETCD_TS_STALL_LOG,
// src/embed/stall_monitor.ts): as the clock saw it, and less the time the thread waited for a
// CPU (on a busy machine the scheduler, not the member, causes most of the former).

import { readFileSync } from "node:fs";

export interface Stalls {
  /** Longest delay of the event loop, wall clock. */
  wallMs: number;
  /** Longest delay less the time the thread was runnable but had no CPU. */
  ownMs: number;
}

/** The longest stalls any of `files` recorded in the seconds mostly within [fromMs, toMs]
 * (epoch ms); NaN when none was recorded. */
export function longestStalls(files: string[], fromMs: number, toMs: number): Stalls {
  const worst: Stalls = { wallMs: NaN, ownMs: NaN };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue; // no second reported yet
    }
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const { at, maxMs, ownMs } = JSON.parse(line) as {
        at: number;
        maxMs: number;
        ownMs?: number;
      };
      // A line covers the second before `at`.
      const middle = at - 500;
      if (middle < fromMs || middle > toMs) continue;
      worst.wallMs = longer(worst.wallMs, maxMs);
      worst.ownMs = longer(worst.ownMs, ownMs ?? NaN);
    }
  }
  return worst;
}

/** The larger of two stalls, NaN standing for none. */
export function longer(a: number, b: number): number {
  return Number.isNaN(a) ? b : Number.isNaN(b) ? a : Math.max(a, b);
}
