// Shared helpers for the config tests.
import assert from "node:assert/strict";
import { type Config, type ParseOutcome, parseServerArgs } from "../../src/config/mod.ts";

export const noFile = (p: string): string => {
  throw new Deno.errors.NotFound(`open ${p}`);
};

export async function run(
  argv: string[],
  env: Record<string, string> = {},
  file?: string,
): Promise<Config> {
  const out = await parseServerArgs(argv, env, file === undefined ? noFile : () => file);
  if (out.action !== "run") assert.fail(`expected run, got ${JSON.stringify(out)}`);
  return out.config;
}

export async function fail(argv: string[], env: Record<string, string> = {}, file?: string) {
  const out: ParseOutcome = await parseServerArgs(
    argv,
    env,
    file === undefined ? noFile : () => file,
  );
  if (out.action !== "fail") assert.fail(`expected fail, got ${out.action}`);
  return out;
}

/** The "error verifying flags" reason of a logged failure. */
export async function verifyError(
  argv: string[],
  env: Record<string, string> = {},
  file?: string,
) {
  const out = await fail(argv, env, file);
  assert.equal(out.logged, true);
  assert.equal(out.exitCode, 1);
  const m = /^error verifying flags, (.*)\. See 'etcd --help'\.$/s.exec(out.stderr);
  if (!m) assert.fail(`not a verification error: ${out.stderr}`);
  return m[1];
}

/** Flags that make a valid single-member start on a test address. */
export const BASE = [
  "--listen-client-urls=http://127.0.9.1:2379",
  "--advertise-client-urls=http://127.0.9.1:2379",
];

export const urls = (list: URL[]): string[] => list.map(String);
