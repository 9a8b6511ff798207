// Temporary directories. Dispose of one to remove it (`await using dir = tempDir()`); a data dir
// handed to a member is left to the system, since a killed process may still be writing to it.
import { createHash } from "node:crypto";

export interface TempDir extends AsyncDisposable {
  path: string;
}

/** A new empty directory; with `tmpfs`, on /dev/shm where there is one (tests that check file
 * contents and call counts, not the disk), or under STORAGE_TEST_DIR when that is set (to run
 * them against a real file system). */
export function tempDir(opts: { prefix?: string; tmpfs?: boolean } = {}): TempDir {
  const path = Deno.makeTempDirSync({
    prefix: opts.prefix ?? "etcd-ts-test-",
    dir: opts.tmpfs ? tmpfsRoot() : undefined,
  });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

function tmpfsRoot(): string | undefined {
  const env = Deno.env.get("STORAGE_TEST_DIR");
  if (env) return env;
  try {
    return Deno.statSync("/dev/shm").isDirectory ? "/dev/shm" : undefined;
  } catch {
    return undefined;
  }
}

/** A test body that gets a scratch directory, removed however the test ends. */
export function withTempDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    await using dir = tempDir();
    await fn(dir.path);
  };
}

/** The SHA-256 of every file under `dir`, by path relative to it: equal when nothing changed. */
export async function fileHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (sub: string) => {
    for await (const e of Deno.readDir(`${dir}/${sub}`)) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory) await walk(rel);
      else {out[rel] = createHash("sha256").update(await Deno.readFile(`${dir}/${rel}`)).digest(
          "hex",
        );}
    }
  };
  await walk("");
  return out;
}
