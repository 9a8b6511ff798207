// A logger for in-process tests: capnslog (or zap) lines kept in memory, with waits for lines to
// come, and a fatal() that throws FatalExit instead of ending the test process.
import { createLogger, type Logger, type LoggerOptions } from "../../src/log/mod.ts";

export interface TestLog {
  log: Logger;
  /** Every line so far, without its newline. */
  lines: string[];
  /** Resolves with the first line (already logged or to come) containing `text`; only lines
   * from index `since` on count (pass lines.length taken before an event). */
  waitFor(text: string, timeoutMs?: number, since?: number): Promise<string>;
  /** Resolves once `n` lines in all have been logged. */
  waitForLines(n: number, timeoutMs?: number): Promise<void>;
}

export class FatalExit extends Error {}

export function testLog(
  level = "info",
  format: Pick<LoggerOptions, "logger" | "zapTimestamp"> = { logger: "capnslog" },
): TestLog {
  const lines: string[] = [];
  // Each waiter checks its condition after every line; true when it is settled.
  const waiters = new Set<() => boolean>();
  const log = createLogger({
    ...format,
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
    waitFor: (text, timeoutMs = 10_000, since = 0) =>
      until(
        () => lines.slice(since).find((l) => l.includes(text)),
        timeoutMs,
        `line with ${text}`,
      ),
    waitForLines: async (n, timeoutMs = 10_000) => {
      await until(() => lines.length >= n || undefined, timeoutMs, `${n} lines`);
    },
  };
}

/** The message part of capnslog lines: `I | pkg: text`, without the timestamp. */
export function messages(lines: string[]): string[] {
  return lines.map((l) => l.replace(/^\S+ \S+ /, ""));
}
