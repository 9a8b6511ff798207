// ETCD_TS_STALL_LOG=<file>: how long the event loop was held up, for `deno task bench`. A timer
// asks to run every 10 ms; how late it runs is how long something kept the one
// JavaScript thread (a commit, a checkpoint's fsync, a long apply run) — or how long the system
// left the thread waiting for a CPU, which the kernel counts (/proc/thread-self/schedstat) and
// is taken out as well. Once a second the longest delays of that second are appended to the
// file as a JSON line {"at": epoch ms, "maxMs": delay, "ownMs": delay less waiting for a CPU}.

// Each tick is a timer wake-up and a read of schedstat: every 5 ms (and an open per read) they
// added about a tenth to the CPU of a linearizable range under `deno task bench`.
const TICK_MS = 10;
const REPORT_MS = 1000;

/** The file named by ETCD_TS_STALL_LOG, or undefined (unset, or no env permission). */
export function stallLogPath(): string | undefined {
  try {
    return Deno.env.get("ETCD_TS_STALL_LOG") || undefined;
  } catch {
    return undefined;
  }
}

/**
 * This thread's schedstat, opened once: each read gives the nanoseconds the thread has spent
 * runnable but waiting for a CPU (0 if not reported). A seek and a read per tick, not an open.
 */
function runQueueWait(): { read(): number; close(): void } {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync("/proc/thread-self/schedstat");
  } catch {
    return { read: () => 0, close: () => {} };
  }
  const buf = new Uint8Array(128), text = new TextDecoder();
  const read = () => {
    try {
      file.seekSync(0, Deno.SeekMode.Start);
      const n = file.readSync(buf) ?? 0;
      return Number(text.decode(buf.subarray(0, n)).split(" ")[1]) || 0;
    } catch {
      return 0;
    }
  };
  return { read, close: () => file.close() };
}

/**
 * Starts the monitor when `path` (ETCD_TS_STALL_LOG by default) names a file; returns its stop
 * function, which reports the last, partial second too.
 */
export function startStallMonitor(path = stallLogPath()): () => void {
  if (path === undefined) return () => {};
  const runQueue = runQueueWait();
  let last = performance.now(), lastWait = runQueue.read();
  let worst = 0, worstOwn = 0;
  let reported = Date.now();
  // How late the timer is now: the stall since the last tick, less the wait for a CPU.
  const observe = () => {
    const now = performance.now(), wait = runQueue.read();
    const late = Math.max(0, now - last - TICK_MS);
    worst = Math.max(worst, late);
    worstOwn = Math.max(worstOwn, late - (wait - lastWait) / 1e6);
    [last, lastWait] = [now, wait];
  };
  const report = () => {
    reported = Date.now();
    const ms = (x: number) => Math.round(x * 10) / 10;
    const line = JSON.stringify({ at: reported, maxMs: ms(worst), ownMs: ms(worstOwn) });
    Deno.writeTextFileSync(path, line + "\n", { append: true });
    worst = worstOwn = 0;
  };
  const id = setInterval(() => {
    observe();
    if (Date.now() - reported >= REPORT_MS) report();
  }, TICK_MS);
  Deno.unrefTimer(id);
  return () => {
    clearInterval(id);
    observe();
    report();
    runQueue.close();
  };
}
