// bbolt's own library as a test oracle: scripts/build-go-tools builds (once, cached) the `bbolt`
// inspector and the `bbolt-fill` writer from Debian's Go sources. A failed build fails the test.
import { type Run, run } from "./process.ts";

const repo = new URL("../../", import.meta.url).pathname;
let built: Promise<string> | undefined;

/** The directory holding the built tools. */
export function goTools(): Promise<string> {
  built ??= (async () => {
    const r = await run(`${repo}scripts/build-go-tools`, []);
    if (r.code !== 0) throw new Error(`scripts/build-go-tools failed:\n${r.stderr}${r.stdout}`);
    return r.stdout.trim();
  })();
  return built;
}

/** Runs the bbolt inspector: check|buckets|keys|get|put|dump PATH ... */
export async function bbolt(...args: string[]): Promise<Run> {
  return await run(`${await goTools()}/bbolt`, args);
}

/** Like bbolt(), but fails unless it exits 0; returns stdout's lines. */
export async function bboltOk(...args: string[]): Promise<string[]> {
  const r = await bbolt(...args);
  if (r.code !== 0) throw new Error(`bbolt ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** Writes a database at path with real bbolt from a bbolt-fill script. */
export async function bboltFill(path: string, script: string, pageSize?: number): Promise<void> {
  const args = pageSize ? [path, String(pageSize)] : [path];
  const r = await run(`${await goTools()}/bbolt-fill`, args, { stdin: script });
  if (r.code !== 0) throw new Error(`bbolt-fill exited ${r.code}: ${r.stderr}`);
}
