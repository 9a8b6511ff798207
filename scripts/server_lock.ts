// `deno task lock:server [--check]`: writes server.lock, deno.lock cut down to the packages the
// server imports (scripts/server_graph.ts).
//
// Deno installs every npm package a lockfile's snapshot holds, whatever the entrypoint, so the
// one deno.lock that tests and benchmarks keep up to date would make `deno task start` fetch
// etcd3, grpc-js and fast-check too. server.lock is what `deno task start`, scripts/etcd-ts,
// the compiled binary and the image resolve through; being cut from deno.lock, it pins the very
// versions the tests ran against. --check only says whether it is current (CI runs it).
import { repo, serverGraph } from "./server_graph.ts";

export const SERVER_LOCK = `${repo}server.lock`;
const DEV_LOCK = `${repo}deno.lock`;

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

/** deno.lock's text with only the given npm packages (and the specifiers naming them). */
export function cutLockfile(text: string, keep: Set<string>): string {
  const lock = JSON.parse(text) as Lockfile;
  if (lock.version !== "5") {
    throw new Error(`deno.lock is version ${lock.version}; this script reads version 5`);
  }
  const known = new Set(["version", "specifiers", "npm", "workspace"]);
  const other = Object.keys(lock).filter((k) => !known.has(k));
  // jsr: and https: modules would need their own cut; the project has none (JSR is unreachable).
  if (other.length > 0) throw new Error(`deno.lock has sections this script cannot cut: ${other}`);
  const specifiers = Object.entries(lock.specifiers ?? {}).filter(([s, v]) => {
    const id = specifierId(s, v);
    return id !== undefined && keep.has(id);
  });
  const npm = Object.entries(lock.npm ?? {}).filter(([id]) => keep.has(id));
  const missing = [...keep].filter((id) => !(lock.npm ?? {})[id]);
  if (missing.length > 0) throw new Error(`deno.lock lacks ${missing.join(", ")}`);
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

/** server.lock's text as deno.lock and the server's imports make it now. */
export async function serverLockText(): Promise<string> {
  const graph = await serverGraph(DEV_LOCK);
  return cutLockfile(Deno.readTextFileSync(DEV_LOCK), new Set(graph.npm.map((p) => p.id)));
}

async function main() {
  const want = await serverLockText();
  let have = "";
  try {
    have = Deno.readTextFileSync(SERVER_LOCK);
  } catch {
    // written below
  }
  if (Deno.args.includes("--check")) {
    if (have !== want) {
      console.error("server.lock is out of date with deno.lock: run `deno task lock:server`");
      Deno.exit(1);
    }
    console.error("server.lock is current");
    return;
  }
  if (have !== want) Deno.writeTextFileSync(SERVER_LOCK, want);
  console.error(`server.lock: ${Object.keys(JSON.parse(want).npm).length} npm packages`);
}

if (import.meta.main) await main();
