// process_* (Prometheus' process collector), etcd's os_fd_* gauges and go_threads, read from
// /proc as the Go client reads them. Off Linux (no /proc) the families stay at zero.

import { Counter, Gauge, type Registry } from "./registry.ts";

// Linux reports CPU times in clock ticks of USER_HZ (100 on every platform Linux supports).
const USER_HZ = 100;
const PAGE_SIZE = 4096;

interface ProcSample {
  cpuSeconds: number;
  residentBytes: number;
  virtualBytes: number;
  startTimeSeconds: number;
  openFds: number;
  maxFds: number;
  maxVirtualBytes: number;
  threads: number;
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

let bootTime: number | undefined;

function bootTimeSeconds(): number {
  if (bootTime === undefined) {
    const m = /^btime (\d+)$/m.exec(readText("/proc/stat") ?? "");
    bootTime = m ? Number(m[1]) : 0;
  }
  return bootTime;
}

// "Max open files            1024                 1048576              files"
function softLimit(limits: string, name: string): number {
  const line = limits.split("\n").find((l) => l.startsWith(name));
  const soft = line?.slice(name.length).trim().split(/\s+/)[0];
  if (soft === undefined) return 0;
  return soft === "unlimited" ? 2 ** 64 - 1 : Number(soft);
}

function sample(): ProcSample | undefined {
  const stat = readText("/proc/self/stat");
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime = 14, stime = 15, num_threads = 20, starttime = 22,
  // vsize = 23, rss = 24.
  const at = (n: number) => Number(fields[n - 3]);
  let openFds = 0;
  try {
    for (const _ of Deno.readDirSync("/proc/self/fd")) openFds++;
  } catch {
    // not permitted: leave 0
  }
  const limits = readText("/proc/self/limits") ?? "";
  return {
    cpuSeconds: (at(14) + at(15)) / USER_HZ,
    residentBytes: at(24) * PAGE_SIZE,
    virtualBytes: at(23),
    startTimeSeconds: bootTimeSeconds() + at(22) / USER_HZ,
    openFds,
    maxFds: softLimit(limits, "Max open files"),
    maxVirtualBytes: softLimit(limits, "Max address space"),
    threads: at(20),
  };
}

/** Registers the process families; they are refreshed at each scrape. */
export function registerProcessMetrics(r: Registry): void {
  const cpu = r.register(
    new Counter({
      name: "process_cpu_seconds_total",
      help: "Total user and system CPU time spent in seconds.",
    }),
  );
  const gauge = (name: string, help: string) => r.register(new Gauge({ name, help }));
  const maxFds = gauge("process_max_fds", "Maximum number of open file descriptors.");
  const openFds = gauge("process_open_fds", "Number of open file descriptors.");
  const rss = gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  const start = gauge(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
  );
  const vsize = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.");
  const vmax = gauge(
    "process_virtual_memory_max_bytes",
    "Maximum amount of virtual memory available in bytes.",
  );
  const fdLimit = gauge("os_fd_limit", "The file descriptor limit.");
  const fdUsed = gauge("os_fd_used", "The number of used file descriptors.");
  const threads = gauge("go_threads", "Number of OS threads created.");
  r.addCollector(() => {
    const s = sample();
    if (!s) return;
    cpu.mirror(s.cpuSeconds);
    maxFds.set(s.maxFds);
    openFds.set(s.openFds);
    rss.set(s.residentBytes);
    start.set(s.startTimeSeconds);
    vsize.set(s.virtualBytes);
    vmax.set(s.maxVirtualBytes);
    fdLimit.set(s.maxFds);
    fdUsed.set(s.openFds);
    threads.set(s.threads);
  });
}
