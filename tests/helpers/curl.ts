// curl, the HTTP client the integration tests share with the guide: silent but for errors, and
// bounded in time so a dead server fails a test instead of hanging it.
import { type Run, run } from "./process.ts";

export function curl(...args: string[]): Promise<Run> {
  return run("curl", ["-sS", "--max-time", "10", ...args]);
}

/** What curl printed; a failed transfer fails the test. */
export async function curlOutput(...args: string[]): Promise<string> {
  const r = await curl(...args);
  if (r.code !== 0) throw new Error(`curl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
