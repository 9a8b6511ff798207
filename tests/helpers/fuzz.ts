// fast-check's run parameters for the fuzz tests, with a way to replay a failure: a failing run
// prints its seed and path, and FC_SEED=<seed> FC_PATH=<path> runs that one case again
// (FC_SEED alone replays the whole run). FC_RUNS changes the number of cases, to fuzz longer.
import type fc from "fast-check";

export function fuzzParams<T>(numRuns: number): fc.Parameters<T> {
  const seed = intFromEnv("FC_SEED");
  const runs = intFromEnv("FC_RUNS");
  const path = Deno.env.get("FC_PATH");
  return {
    numRuns: runs ?? numRuns,
    ...(seed === undefined ? {} : { seed }),
    ...(path === undefined ? {} : { path }),
  };
}

function intFromEnv(name: string): number | undefined {
  const text = Deno.env.get(name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(n)) {
    throw new Error(`${name}=${JSON.stringify(text)}: not an integer`);
  }
  return n;
}
