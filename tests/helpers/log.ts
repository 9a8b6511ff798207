// A logger for in-process tests: capnslog lines kept in memory, with waits for lines to come,
// and a fatal() that throws FatalExit instead of ending the test process.
import { createLogger, type Logger } from "../../src/log/mod.ts";

export interface TestLog {
  log: Logger;
  /** Every line so far, without its newline. */
  lines: string[];
  /** Resolves with the first line (already logged or to come) containing `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<string>;
  /** Resolves once `n` lines in all have been logged. */
  waitForLines(n: number, timeoutMs?: number): Promise<void>;
}

export class FatalExit extends Error {}

export function testLog(level = "info"): TestLog {
  const lines: string[] = [];
  // Each waiter checks its condition after every line; true when it is settled.
  const waiters = new Set<() => boolean>();
  const log = createLogger({
    logger: "capnslog",
    level,
    outputs: ["memory"],
    write: (_out, line) => {
      lines.push(line.replace(/\n$/, ""));
      for (const w of [...waiters]) if (w()) waiters.delete(w);
    },
    exit: (code) => {
      throw new FatalExit(`exit ${code}`);
    },
  });
  const until = <T>(check: () => T | undefined, timeoutMs: number, what: string) => {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(settle);
        reject(new Error(`no ${what} logged:\n${lines.join("\n")}`));
      }, timeoutMs);
      const settle = () => {
        const v = check();
        if (v === undefined) return false;
        clearTimeout(timer);
        resolve(v);
        return true;
      };
      waiters.add(settle);
    });
  };
  return {
    log,
    lines,
    waitFor: (text, timeoutMs = 10_000) =>
      until(() => lines.find((l) => l.includes(text)), timeoutMs, `line with ${text}`),
    waitForLines: async (n, timeoutMs = 10_000) => {
      await until(() => lines.length >= n || undefined, timeoutMs, `${n} lines`);
    },
  };
}
