// `deno task lock [--check]`: brings the lockfiles in line with deno.json. tests/deno.lock holds
// every npm package the tests, tools and server use; deno.lock is that cut down to the packages
// the server imports (scripts/server_graph.ts), so both pin the same versions.
//
// Why two: Deno installs every package a lockfile's snapshot holds, whatever the entrypoint, and
// `deno task` does so before any task runs. deno.lock, the lockfile deno.json names (frozen), is
// what `deno task start`, scripts/etcd-ts, the compiled binary and the image resolve through:
// only the server's packages. Tests resolve through tests/deno.lock (`deno task test` passes it),
// where the packages only they import (deno.json's "scopes" for ./tests/) are locked too.
//
// When deno.json changes, every deno task stops on the out-of-date frozen deno.lock; run this
// script directly then: `deno run -A --no-config scripts/server_lock.ts`. --check only says
// whether deno.lock is current.
import { deno, repo, serverGraph } from "./server_graph.ts";

export const SERVER_LOCK = `${repo}deno.lock`;
export const DEV_LOCK = `${repo}tests/deno.lock`;
export const LOCK_FIX = "run `deno run -A --no-config scripts/server_lock.ts`";

interface Lockfile {
  version: string;
  specifiers?: Record<string, string>;
  npm?: Record<string, unknown>;
  workspace?: unknown;
}

/** "npm:@hono/node-server@2.1.9" resolved to "2.1.9_hono@4.13.19" -> its package id. */
function specifierId(specifier: string, resolved: string): string | undefined {
  if (!specifier.startsWith("npm:")) return undefined;
  const req = specifier.slice("npm:".length);
  const at = req.indexOf("@", 1);
  return `${at < 0 ? req : req.slice(0, at)}@${resolved}`;
}

/** A lockfile's text with only the given npm packages (and the specifiers naming them). */
export function cutLockfile(text: string, keep: Set<string>): string {
  const lock = JSON.parse(text) as Lockfile;
  if (lock.version !== "5") {
    throw new Error(`the lockfile is version ${lock.version}; this script reads version 5`);
  }
  const known = new Set(["version", "specifiers", "npm", "workspace"]);
  const other = Object.keys(lock).filter((k) => !known.has(k));
  // jsr: and https: modules would need their own cut; the project has none (JSR is unreachable).
  if (other.length > 0) {
    throw new Error(`the lockfile has sections this script cannot cut: ${other}`);
  }
  const specifiers = Object.entries(lock.specifiers ?? {}).filter(([s, v]) => {
    const id = specifierId(s, v);
    return id !== undefined && keep.has(id);
  });
  const npm = Object.entries(lock.npm ?? {}).filter(([id]) => keep.has(id));
  const missing = [...keep].filter((id) => !(lock.npm ?? {})[id]);
  if (missing.length > 0) throw new Error(`the lockfile lacks ${missing.join(", ")}`);
  // The workspace section lists deno.json's imports; Deno checks it against the config, so it
  // stays whole (packages it names that are not in the snapshot are simply not installed).
  const cut = {
    version: lock.version,
    specifiers: Object.fromEntries(specifiers),
    npm: Object.fromEntries(npm),
    workspace: lock.workspace,
  };
  return `${JSON.stringify(cut, null, 2)}\n`;
}

/** deno.lock's text as tests/deno.lock and the server's imports make it now. */
export async function serverLockText(): Promise<string> {
  const graph = await serverGraph(DEV_LOCK);
  return cutLockfile(Deno.readTextFileSync(DEV_LOCK), new Set(graph.npm.map((p) => p.id)));
}

/** Resolves deno.json's imports and scopes into tests/deno.lock (fetches what is new). */
async function updateDevLock(): Promise<void> {
  const out = await new Deno.Command(deno, {
    args: ["install", "--quiet", "--frozen=false", "--lock", DEV_LOCK],
    cwd: repo,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`deno install --lock ${DEV_LOCK} failed`);
}

async function main() {
  const check = Deno.args.includes("--check");
  if (!check) await updateDevLock();
  const want = await serverLockText();
  let have = "";
  try {
    have = Deno.readTextFileSync(SERVER_LOCK);
  } catch {
    // written below
  }
  if (check) {
    if (have !== want) {
      console.error(`deno.lock is out of date: ${LOCK_FIX}`);
      Deno.exit(1);
    }
    console.error("deno.lock is current");
    return;
  }
  if (have !== want) Deno.writeTextFileSync(SERVER_LOCK, want);
  console.error(`deno.lock: ${Object.keys(JSON.parse(want).npm).length} npm packages`);
}

if (import.meta.main) await main();
