// ETCD_* environment variables, applied as etcd's pkg/flags does: only to flags not given on the
// command line, in flag-name order; a variable shadowed by a given flag is fatal.
import { FLAGS } from "./flags.ts";
import { type FlagState, setFlag } from "./goflag.ts";
import { goQuote } from "./gostr.ts";
import { type Notice, notice } from "./notice.ts";

export function flagToEnv(name: string): string {
  return "ETCD_" + name.toUpperCase().replaceAll("-", "_");
}

export interface EnvResult {
  /** Last invalid value found (etcd keeps the last one), as "invalid value ... for ETCD_X: ...". */
  error?: string;
  /** Flag and variable both set: a critical log line, exit 1. */
  fatal?: Notice;
  /** Flags set from the environment. */
  used: string[];
}

export function applyEnv(
  state: FlagState,
  explicit: readonly string[],
  env: Record<string, string>,
): EnvResult {
  const alreadySet = new Set(explicit.map(flagToEnv));
  const usedKeys = new Set<string>();
  const used: string[] = [];
  let error: string | undefined;
  const byName = [...FLAGS].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const spec of byName) {
    const key = flagToEnv(spec.name);
    const val = env[key];
    if (alreadySet.has(key) || val === undefined || val === "") continue;
    usedKeys.add(key);
    const err = setFlag(spec, state, val);
    if (err !== undefined) {
      error = `invalid value ${goQuote(val)} for ${key}: ${err}`;
      continue;
    }
    used.push(spec.name);
    state.notices.push(
      notice(
        "info",
        "pkg/flags",
        `recognized and used environment variable ${key}=${val}`,
        "recognized and used environment variable",
        { "variable-name": key, "variable-value": val },
      ),
    );
  }
  for (const [key, val] of Object.entries(env)) {
    if (usedKeys.has(key)) continue;
    if (alreadySet.has(key)) {
      const fatal = notice(
        "critical",
        "pkg/flags",
        `conflicting environment variable ${
          goQuote(key)
        } is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`,
        "conflicting environment variable is shadowed by corresponding command-line flag (either unset environment variable or disable flag))",
        { "environment-variable": key },
      );
      return { error, fatal, used };
    }
    if (key.startsWith("ETCD_")) {
      state.notices.push(
        notice("warn", "pkg/flags", `unrecognized environment variable ${key}=${val}`),
      );
    }
  }
  return { error, used };
}
