// Members' resident memory over a soak: a table by minute, and for each process that lived
// long enough, whether its memory kept growing once warm.

export interface RssSample {
  /** Seconds since the soak began. */
  t: number;
  member: string;
  pid: number;
  rss: number;
}

/** A process's first minute is its warm-up: caches fill, the JIT compiles. */
const WARM_UP_S = 60;
/** Shorter lives say nothing about a slow leak. */
const MIN_SPAN_S = 180;
/**
 * Growth of the lower envelope (the smallest sample, what is left after a collection) from the
 * first third of a process's warm life to the last third that counts as a leak: both must hold.
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
    const born = all[0].t;
    const warm = all.filter((s) => s.t - born >= WARM_UP_S);
    if (warm.length < 6 || warm.at(-1)!.t - warm[0].t < MIN_SPAN_S) continue;
    const third = Math.floor(warm.length / 3);
    const first = Math.min(...warm.slice(0, third).map((s) => s.rss));
    const last = Math.min(...warm.slice(-third).map((s) => s.rss));
    const minutes = (warm.at(-1)!.t - warm[0].t) / 60;
    const flag = last > first * MAX_RATIO && last - first > MAX_BYTES;
    growing ||= flag;
    lines.push(
      `${name}: at least ${mb(first)} MB -> at least ${mb(last)} MB over ` +
        `${minutes.toFixed(1)} min once warm` +
        (flag ? "  ! GROWING" : ""),
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
