// Segment files allocated ahead of need. Growing a file makes every fdatasync commit the new
// size to the file system journal as well (measured here: ~2.5x the cost of the data write);
// overwriting blocks that were written and synced before does not. So a segment is created
// at its full size with real zeros (a sparse ftruncate leaves the blocks unallocated, and
// the first write into each still changes metadata), and the log overwrites them in place.
// Zero-filling 64 MB takes a second or more on a busy disk, so the next segment is prepared
// in the background, as etcd's file pipeline does, and renamed into place at rollover.

import { FILE_MODE, join, removeIfExists, writeAll } from "./fsutil.ts";
import { type StorageFile, storageFs } from "./fs.ts";

/** The one file the pipeline prepares; a `*.wal.tmp`, so a crash leaves nothing openWal
 * would read, and removeStaleTemporaries() clears it. */
export const PREPARED_NAME = "next.wal.tmp";

const CHUNK = 1 << 20;
/** Sync every few chunks so that preparing never leaves a large burst of dirty pages for
 * the disk to write while the log's own fdatasync waits behind it. */
const SYNC_EVERY = 4 * CHUNK;

class Aborted extends Error {}

/** Writes zeros from the file's current position until it is `size` bytes long. */
export async function fillZeros(
  file: StorageFile,
  from: number,
  size: number,
  aborted: () => boolean = () => false,
  sync = true,
): Promise<void> {
  const zeros = new Uint8Array(Math.min(CHUNK, Math.max(0, size - from)));
  let unsynced = 0;
  for (let off = from; off < size;) {
    if (aborted()) throw new Aborted("wal: segment preparation stopped");
    const n = Math.min(zeros.length, size - off);
    await writeAll(file, zeros.subarray(0, n));
    off += n;
    unsynced += n;
    if (sync && unsynced >= SYNC_EVERY && off < size) {
      await file.syncData();
      unsynced = 0;
    }
  }
}

type State = "idle" | "preparing" | "ready" | "failed";

/** Prepares one zero-filled file of `size` bytes at a time in `dir`. */
export class SegmentPipeline {
  readonly path: string;
  readonly size: number;
  /** false under --unsafe-no-fsync: prepared files are not fsync'd either. */
  sync = true;
  #state: State = "idle";
  #job: Promise<void> = Promise.resolve();
  #stopping = false;

  constructor(dir: string, size: number) {
    this.path = join(dir, PREPARED_NAME);
    this.size = size;
  }

  get state(): State {
    return this.#state;
  }

  /** Starts preparing a file unless one is ready or on its way. After a failure it waits
   * for the next take(), so a full disk costs one attempt per segment, not one per save. */
  start(): void {
    if (this.#state !== "idle" || this.#stopping) return;
    this.#state = "preparing";
    this.#job = this.#prepare().then(
      () => {
        this.#state = "ready";
      },
      () => {
        this.#state = "failed";
      },
    );
  }

  async #prepare() {
    const f = await storageFs().open(this.path, {
      write: true,
      create: true,
      truncate: true,
      mode: FILE_MODE,
    });
    try {
      await fillZeros(f, 0, this.size, () => this.#stopping, this.sync);
      if (this.sync) await f.syncData();
    } catch (err) {
      f.close();
      await removeIfExists(this.path);
      throw err;
    }
    f.close();
  }

  /** Waits for the file being prepared, if any; true when a file is ready. */
  async settled(): Promise<boolean> {
    await this.#job;
    return this.#state === "ready";
  }

  /** Hands the ready file over (the caller renames it away), or undefined if none is. */
  take(): string | undefined {
    const ready = this.#state === "ready";
    if (ready || this.#state === "failed") this.#state = "idle";
    return ready ? this.path : undefined;
  }

  /** Stops preparing and removes the prepared file. */
  async close(): Promise<void> {
    this.#stopping = true;
    await this.#job;
    this.#state = "idle";
    await removeIfExists(this.path);
  }
}
