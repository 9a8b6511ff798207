// Members' resident memory over a soak: sampled from /proc every few seconds, a table by
// minute, and for each process that lived long enough, whether its memory kept growing.

import { sleep } from "../../helpers/wait.ts";
import type { Cluster } from "./cluster.ts";

export interface RssSample {
  /** Seconds since the soak began. */
  t: number;
  member: string;
  pid: number;
  rss: number;
}

/** Shorter lives say nothing about a slow leak. */
const MIN_SPAN_S = 300;
/**
 * Growth of the lower envelope (the smallest sample: what is left after a collection) from the
 * middle third of a process's life to the last third that counts as a leak; both must hold.
 * The first third is its warm-up: caches fill, the JIT compiles, the heap finds its size.
 */
const MAX_RATIO = 1.25;
const MAX_BYTES = 25 * 2 ** 20;

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

/** The RSS table by minute and a line per process; `growing` when one kept growing. */
export function growth(samples: RssSample[]): { lines: string[]; growing: boolean } {
  const lines = ["RSS (MB) by minute:", ...table(samples)];
  let growing = false;
  const byPid = Map.groupBy(samples, (s) => `${s.member} pid ${s.pid}`);
  for (const [name, all] of byPid) {
    const span = all.at(-1)!.t - all[0].t;
    if (all.length < 9 || span < MIN_SPAN_S) continue;
    const third = Math.floor(all.length / 3);
    const middle = Math.min(...all.slice(third, 2 * third).map((s) => s.rss));
    const last = Math.min(...all.slice(-third).map((s) => s.rss));
    const flag = last > middle * MAX_RATIO && last - middle > MAX_BYTES;
    growing ||= flag;
    lines.push(
      `${name}: at least ${mb(middle)} MB in the middle third of its ${(span / 60).toFixed(1)} ` +
        `min, at least ${mb(last)} MB in the last` + (flag ? "  ! GROWING" : ""),
    );
  }
  return { lines, growing };
}

/** One row a minute: each member's largest sample in that minute. */
function table(samples: RssSample[]): string[] {
  const members = [...new Set(samples.map((s) => s.member))].sort();
  const rows = Map.groupBy(samples, (s) => Math.floor(s.t / 60));
  return [
    `  min  ${members.map((m) => m.padStart(6)).join("")}`,
    ...[...rows].map(([min, row]) => {
      const cells = members.map((m) => {
        const of = row.filter((s) => s.member === m).map((s) => s.rss);
        return (of.length ? mb(Math.max(...of)) : "-").padStart(6);
      });
      return `  ${String(min).padStart(3)}  ${cells.join("")}`;
    }),
  ];
}

/** Samples every member's RSS until stopped. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  private readonly started = performance.now();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(cluster: Cluster, everyMs: number) {
    this.loop = (async () => {
      while (this.running) {
        for (const m of cluster.members) {
          const rss = m.proc?.rss();
          if (rss !== undefined) {
            this.samples.push({ t: this.seconds(), member: m.name, pid: m.proc!.pid, rss });
          }
        }
        await sleep(everyMs);
      }
    })();
  }

  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  csv(): string {
    const rows = this.samples.map((s) => `${s.t.toFixed(1)},${s.member},${s.pid},${s.rss}`);
    return ["seconds,member,pid,rss", ...rows].join("\n") + "\n";
  }
}
