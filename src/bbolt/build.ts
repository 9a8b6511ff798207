// Writing whole databases described as data: a convenience over DbWriter for callers (and
// tests) that hold their buckets in memory rather than stream them.
import { compareKeys, type Name, nameBytes } from "./layout.ts";
import { MemorySink } from "./sink.ts";
import { DbWriter, type Sink, type WriterOptions } from "./writer.ts";

export interface BucketData {
  name: Name;
  /** Key/value pairs, in any order; they are sorted before writing. */
  entries?: Iterable<readonly [Name, Uint8Array]>;
  /** Nested buckets, in any order. */
  buckets?: readonly BucketData[];
  sequence?: bigint;
}

type Item = { key: Uint8Array; value: Uint8Array } | { key: Uint8Array; bucket: BucketData };

/** Streams the buckets into a writer in the order it needs: each bucket's items by key. */
export async function writeBuckets(w: DbWriter, buckets: readonly BucketData[]): Promise<void> {
  for (const item of sortItems([], buckets)) await writeItem(w, item);
}

async function writeItem(w: DbWriter, item: Item): Promise<void> {
  if ("value" in item) return w.put(item.key, item.value);
  const b = item.bucket;
  w.beginBucket(item.key, { sequence: b.sequence });
  for (const child of sortItems(b.entries ?? [], b.buckets ?? [])) await writeItem(w, child);
  await w.endBucket();
}

function sortItems(
  entries: Iterable<readonly [Name, Uint8Array]>,
  buckets: readonly BucketData[],
): Item[] {
  const items: Item[] = [];
  for (const [k, value] of entries) items.push({ key: nameBytes(k), value });
  for (const bucket of buckets) items.push({ key: nameBytes(bucket.name), bucket });
  // Equal keys are left for the writer to refuse with its message.
  return items.sort((a, b) => compareKeys(a.key, b.key));
}

/** Writes a whole database to a sink. */
export async function writeDb(
  sink: Sink,
  buckets: readonly BucketData[],
  options?: WriterOptions,
): Promise<{ pages: number; size: number }> {
  const w = new DbWriter(sink, options);
  await writeBuckets(w, buckets);
  return w.finish();
}

/** Builds a whole database in memory, for small data. */
export async function buildDb(
  buckets: readonly BucketData[],
  options?: WriterOptions,
): Promise<Uint8Array> {
  const sink = new MemorySink();
  await writeDb(sink, buckets, options);
  return sink.bytes();
}
