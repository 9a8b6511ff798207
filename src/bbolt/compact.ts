// Copying a whole database into a new file, as bbolt's compact command (and etcd's defrag) do:
// the copy holds the same buckets, keys and sequences in freshly packed pages with no free ones.
import type { Bucket } from "./bucket.ts";
import type { Db } from "./db.ts";
import { DbWriter, type Sink, type WriterOptions } from "./writer.ts";

/** Streams every bucket of `db` into a new file at `sink`; the page size is kept by default. */
export async function compactDb(
  db: Db,
  sink: Sink,
  options: WriterOptions = {},
): Promise<{ pages: number; size: number }> {
  const w = new DbWriter(sink, { pageSize: db.pageSize, ...options });
  await copyInto(db.root, w);
  return await w.finish();
}

async function copyInto(from: Bucket, w: DbWriter): Promise<void> {
  const c = from.cursor();
  for (let ok = c.first(); ok; ok = c.next()) {
    if (!c.isBucket) {
      await w.put(c.key, c.value);
      continue;
    }
    const child = from.bucket(c.key)!;
    w.beginBucket(c.key, { sequence: child.sequence });
    await copyInto(child, w);
    await w.endBucket();
  }
}
