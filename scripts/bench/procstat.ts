// Process CPU and memory from /proc, read by the harness for servers and the generator alike.

import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
export const CLOCK_TICKS = 100;

/** utime + stime of `pid`, in seconds; undefined when the process is gone. */
export function cpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // fields after the ")" that closes comm: state is field 3, utime 14, stime 15
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function statusKb(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
      readFileSync(`/proc/${pid}/status`, "utf8"),
    );
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set (VmHWM) of `pid` in bytes; undefined when the process is gone. */
export function peakRssBytes(pid: number): number | undefined {
  return statusKb(pid, "VmHWM");
}

/** Resident set now (VmRSS) of `pid` in bytes; undefined when the process is gone. */
export function rssBytes(pid: number): number | undefined {
  return statusKb(pid, "VmRSS");
}
