// What the server needs at run time, as Deno resolves it from main.ts: its local modules and
// the npm packages they import with everything those depend on. deno.lock, the image and the
// compiled binary are all cut to this set, so the tests and their packages (etcd3, grpc-js,
// fast-check) stay out of them.

export const repo = new URL("../", import.meta.url).pathname;
export const deno = Deno.execPath();

export interface NpmPackage {
  /** Deno's id, e.g. "hono@4.13.19" or "@hono/node-server@2.1.9_hono@4.13.19". */
  id: string;
  name: string;
  version: string;
  /** The unpacked package in the npm cache. */
  localPath: string;
  /** localPath under the npm cache, e.g. "registry.npmjs.org/hono/4.13.19". */
  cachePath: string;
}

export interface ServerGraph {
  /** Absolute paths of main.ts and every local module it imports. */
  localFiles: string[];
  npm: NpmPackage[];
}

interface InfoPackage {
  name: string;
  version: string;
  dependencies: string[];
  localPath: string;
}

interface InfoModule {
  kind: string;
  local?: string;
  npmPackage?: string;
}

async function denoInfo(args: string[]): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(deno, {
    args: ["info", "--json", ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`deno info ${args.join(" ")} failed:\n${dec.decode(out.stderr).trim()}`);
  }
  return JSON.parse(dec.decode(out.stdout));
}

function mainInfo(lock: string) {
  const config = ["--config", `${repo}deno.json`, "--lock", lock, "--frozen-lockfile"];
  return denoInfo([...config, `${repo}main.ts`]);
}

/**
 * The server's graph resolved through `lock` (frozen: a lockfile that misses a package is an
 * error, never a silent download). Every npm package must already be in Deno's cache.
 */
export async function serverGraph(lock: string): Promise<ServerGraph> {
  const npmCache = (await denoInfo(["--no-config"])).npmCache as string;
  const info = await mainInfo(lock);
  const modules = info.modules as InfoModule[];
  const packages = info.npmPackages as Record<string, InfoPackage>;
  const localFiles = modules.filter((m) => m.kind === "esm" && m.local).map((m) => m.local!);
  const todo = modules.flatMap((m) => m.npmPackage ? [m.npmPackage] : []);
  const npm = new Map<string, NpmPackage>();
  while (todo.length > 0) {
    const id = todo.pop()!;
    if (npm.has(id)) continue;
    const p = packages[id];
    if (!p) throw new Error(`deno info lists no npm package ${id}`);
    if (!p.localPath.startsWith(`${npmCache}/`)) {
      throw new Error(`npm package ${id} is at ${p.localPath}, outside the npm cache ${npmCache}`);
    }
    const cachePath = p.localPath.slice(npmCache.length + 1);
    npm.set(id, { id, name: p.name, version: p.version, localPath: p.localPath, cachePath });
    todo.push(...p.dependencies);
  }
  return { localFiles: localFiles.sort(), npm: [...npm.values()].sort(byId) };
}

/** Every npm package id a lockfile's snapshot holds (what `deno install` would fetch). */
export async function lockedPackages(lock: string): Promise<string[]> {
  const info = await mainInfo(lock);
  return Object.keys(info.npmPackages as Record<string, unknown>).sort();
}

function byId(a: NpmPackage, b: NpmPackage): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
