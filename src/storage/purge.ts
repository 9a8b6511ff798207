// etcd's file purge (pkg/fileutil PurgeFile): keep at most `max` files with a suffix in a
// directory, deleting the oldest (by name) first and stopping at the first one still in use
// (etcd cannot lock it).
import { join, listDir, removeIfExists } from "./fsutil.ts";

export interface Purged {
  /** Paths deleted, oldest first. */
  purged: string[];
  /** The oldest file left because it is still in use, when more than `max` remain. */
  inUse?: string;
}

/** Deletes the oldest `*<suffix>` files in `dir` beyond `max` (0 keeps all). */
export async function purgeFiles(
  dir: string,
  suffix: string,
  max: number,
  inUse: (name: string) => boolean = () => false,
): Promise<Purged> {
  const out: Purged = { purged: [] };
  if (max <= 0) return out;
  const names = listDir(dir).filter((n) => n.endsWith(suffix)).sort();
  while (names.length > max) {
    const path = join(dir, names[0]);
    if (inUse(names[0])) return { ...out, inUse: path };
    await removeIfExists(path);
    out.purged.push(path);
    names.shift();
  }
  return out;
}
