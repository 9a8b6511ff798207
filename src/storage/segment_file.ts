// Writing WAL segment files: the header every segment starts with, a new segment made durable
// under a temporary name and then renamed (so a visible segment always has its header), the
// temporaries a crash leaves behind, and etcd's count of the bytes written.

import { FILE_MODE, join, listDir, removeIfExists, syncDir, writeAll } from "./fsutil.ts";
import { type StorageFile, storageFs } from "./fs.ts";
import { fillZeros } from "./prealloc.ts";
import { encodeHardStatePayload, putRecord, recordSize, RecordType } from "./record.ts";
import type { HardState } from "../raft/mod.ts";
import { diskMetrics } from "../metrics/mod.ts";

/** metadata record, then (for segments after the first) the current hard state. */
export function segmentHeader(metadata: Uint8Array, hardState?: HardState): Uint8Array {
  const buf = new Uint8Array(recordSize(metadata.length) + (hardState ? recordSize(24) : 0));
  const off = putRecord(buf, 0, RecordType.Metadata, metadata);
  if (hardState) putRecord(buf, off, RecordType.HardState, encodeHardStatePayload(hardState));
  return buf;
}

// etcd counts each byte twice: as its encoder hands it to the write buffer, and again as the
// buffer is flushed. The metric follows etcd's figure so dashboards read the same.
export function walWritten(bytes: number): void {
  diskMetrics.walWriteBytes.inc(2 * bytes);
}

/**
 * Makes segment `name` durable with `header` at its start and returns it open, positioned
 * after the header. The file is `prepared` (already zero-filled and synced, so writing the
 * header only overwrites), or a new one zero-filled here up to `preallocate` bytes.
 */
export async function createSegment(
  dir: string,
  name: string,
  header: Uint8Array,
  prepared: string | undefined,
  sync: boolean,
  preallocate = 0,
): Promise<{ file: StorageFile; capacity: number }> {
  const path = join(dir, name);
  const tmp = prepared ?? path + ".tmp";
  const fs = storageFs();
  const f = prepared
    ? await fs.open(tmp, { write: true })
    : await fs.open(tmp, { write: true, create: true, truncate: true, mode: FILE_MODE });
  try {
    await writeAll(f, header);
    walWritten(header.length);
    if (!prepared) await fillZeros(f, header.length, preallocate, undefined, sync);
    if (sync) await f.syncData();
    await f.seek(header.length, Deno.SeekMode.Start);
    const { size } = await f.stat();
    await fs.rename(tmp, path);
    await syncDir(dir);
    return { file: f, capacity: size };
  } catch (err) {
    f.close();
    throw err;
  }
}

/** A crash while a segment was being created or prepared leaves `*.wal.tmp`; it never held
 * acknowledged data. */
export async function removeStaleTemporaries(walDir: string) {
  for (const n of listDir(walDir)) {
    if (n.endsWith(".wal.tmp")) await removeIfExists(join(walDir, n));
  }
}
