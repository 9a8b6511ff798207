// Shutdown on SIGTERM/SIGINT as etcd does it: log, stop cleanly, then exit "killed by the
// signal" (shell status 143/130) by re-raising it.
import type { Logger } from "../log/mod.ts";

export type StopSignal = "SIGTERM" | "SIGINT";

/** Waits for SIGTERM or SIGINT and stops listening for them, so a re-raise takes effect. */
export function waitForSignal(log: Logger): Promise<StopSignal> {
  return new Promise((resolve) => {
    const listeners = new Map<StopSignal, () => void>();
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      listeners.set(sig, () => {
        for (const [s, l] of listeners) Deno.removeSignalListener(s, l);
        const name = sig === "SIGTERM" ? "terminated" : "interrupt";
        // etcd logs it from its signal handler package, whatever --log-package-levels says of
        // etcdmain.
        log.notice({
          pkg: "pkg/osutil",
          caller: "osutil/interrupt_unix.go:64",
          text: `received ${name} signal, shutting down...`,
          msg: "received signal; shutting down",
          fields: { signal: name },
        });
        resolve(sig);
      });
      Deno.addSignalListener(sig, listeners.get(sig)!);
    }
  });
}

/**
 * etcd exits "killed by the signal" after a clean shutdown (shell status 143/130), or 0 as
 * PID 1. The re-raised signal's default action ends the process; the exit code is the fallback
 * should the runtime keep the signal handled.
 */
export async function reraise(signal: StopSignal): Promise<number> {
  if (Deno.pid === 1) return 0;
  Deno.kill(Deno.pid, signal);
  await new Promise((r) => setTimeout(r, 100));
  return signal === "SIGTERM" ? 143 : 130;
}
