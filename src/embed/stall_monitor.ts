// ETCD_TS_STALL_LOG=<file>: how long the event loop was held up, for `deno task bench`. A timer
// asks to run every few milliseconds; how late it runs is how long something else kept the one
// JavaScript thread (a commit, a checkpoint, a long apply run). Once a second the longest delay
// of that second is appended to the file as a JSON line {"at": epoch ms, "maxMs": delay}.

const TICK_MS = 5;
const REPORT_MS = 1000;

/** The file named by ETCD_TS_STALL_LOG, or undefined (unset, or no env permission). */
export function stallLogPath(): string | undefined {
  try {
    return Deno.env.get("ETCD_TS_STALL_LOG") || undefined;
  } catch {
    return undefined;
  }
}

/** Starts the monitor when ETCD_TS_STALL_LOG names a file; returns its stop function. */
export function startStallMonitor(): () => void {
  const path = stallLogPath();
  if (path === undefined) return () => {};
  let expected = performance.now() + TICK_MS;
  let worst = 0;
  let reported = Date.now();
  const id = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - expected);
    expected = now + TICK_MS;
    if (Date.now() - reported < REPORT_MS) return;
    reported = Date.now();
    const line = JSON.stringify({ at: reported, maxMs: Math.round(worst * 10) / 10 });
    Deno.writeTextFileSync(path, line + "\n", { append: true });
    worst = 0;
  }, TICK_MS);
  Deno.unrefTimer(id);
  return () => clearInterval(id);
}
