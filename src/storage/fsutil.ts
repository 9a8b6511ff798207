// Small file-system helpers shared by the WAL and the snapshotter, over storageFs().
import { type StorageFile, storageFs } from "./fs.ts";

export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** Makes a directory's entries (created, renamed, removed files) durable. */
export function syncDir(dir: string): Promise<void> {
  return storageFs().syncDir(dir);
}

/** Creates `dir` and any missing parents (0700), and makes each new entry durable in its
 * parent, so that a crash cannot lose a directory that files were already synced into. */
export async function mkdirDurable(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; !(await exists(d)); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    await storageFs().mkdir(d, DIR_MODE).catch((err) => {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    });
    await syncDir(dirname(d));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await storageFs().stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** write() may write fewer bytes than asked; loop until the whole buffer is out. */
export async function writeAll(file: StorageFile, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) off += await file.write(buf.subarray(off));
}

/** writeAll without leaving the thread: for the WAL's appends, which only reach the page
 * cache (the fsync after them is the slow part and stays asynchronous). An async write would
 * cost an extra event-loop round trip per batch while the member is busy. */
export function writeAllSync(file: StorageFile, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) off += file.writeSync(buf.subarray(off));
}

/** Writes `data` to `path` so that it is either complete and durable or absent. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = path + ".tmp";
  const fs = storageFs();
  const f = await fs.open(tmp, { write: true, create: true, truncate: true, mode: FILE_MODE });
  try {
    await writeAll(f, data);
    await f.syncData();
  } finally {
    f.close();
  }
  await fs.rename(tmp, path);
  await syncDir(dirname(path));
}

/**
 * An operating system error as Go's os package words it ("write <path>: no space left on
 * device"), keeping the errno code: the line a member stops with names the file.
 */
export function ioError(op: string, path: string, err: unknown): Error {
  const text = err instanceof Error ? err.message : String(err);
  // Deno's "No space left on device (os error 28)" is Go's "no space left on device".
  const os = / \(os error \d+\)$/.exec(text);
  const why = os ? text.charAt(0).toLowerCase() + text.slice(1, os.index) : text;
  const out = new Error(`${op} ${path}: ${why}`, { cause: err });
  return Object.assign(out, { code: (err as { code?: string }).code });
}

export function hex16(n: number): string {
  return n.toString(16).padStart(16, "0");
}

/** Parses a 16-digit lowercase hex field of a file name, or undefined. */
export function parseHex16(s: string): number | undefined {
  if (!/^[0-9a-f]{16}$/.test(s)) return undefined;
  const n = parseInt(s, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function dirname(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : trimmed.slice(0, i);
}

export function join(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

export function listDir(dir: string): string[] {
  try {
    return storageFs().readDirSync(dir);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

export async function removeIfExists(path: string): Promise<void> {
  try {
    await storageFs().remove(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}
