// The write-ahead log: raft's entries, hard state and snapshot markers, written as framed,
// checksummed records (record.ts) to segment files `<seq 16 hex>-<index 16 hex>.wal`.
//
// Every segment starts with the metadata record (member and cluster ID, opaque here) and,
// from the second segment on, the hard state current when it was cut, so that any suffix of
// the segment chain can be read on its own once releaseTo() has deleted older segments.
// A segment is written under a temporary name, fsync'd and renamed, so a visible segment
// always has its header. Segments are preallocated with zeros (prealloc.ts): records
// overwrite the zeros from the segment's start, and the end of the log is the end of the
// last valid record, not the end of the file. Replay follows etcd: a later entry record for
// an index already seen truncates everything from that index on (raft's conflict
// resolution), so it wins.

import { assert } from "../assert/mod.ts";
import { ioError, join, listDir, mkdirDurable, removeIfExists, writeAllSync } from "./fsutil.ts";
import type { StorageFile } from "./fs.ts";
import { SegmentPipeline } from "./prealloc.ts";
import { type Purged, purgeFiles } from "./purge.ts";
import {
  encodeHardStatePayload,
  encodeSnapshotPayload,
  entryRecordSize,
  putEntryRecord,
  putRecord,
  recordSize,
  RecordType,
} from "./record.ts";
import { type SegmentName, segmentName, WalError } from "./segment.ts";
import {
  createSegment,
  removeStaleTemporaries,
  segmentHeader,
  walWritten,
} from "./segment_file.ts";
import type { Entry, HardState } from "../raft/mod.ts";
import { diskMetrics, secondsSince } from "../metrics/mod.ts";
import { evaluate, failpoints, hit, hitSync, loseUnsynced, powerCut } from "../failpoint/mod.ts";

export { WalError };

/** etcd's SegmentSizeBytes. */
export const DEFAULT_SEGMENT_SIZE = 64 * 1000 * 1000;

/** How much of the first segment createWal() zero-fills before returning: enough for a
 * member's first writes, small enough not to delay its start (about 10-50 ms here, where a
 * whole segment takes 0.3-1.4 s). */
export const FIRST_SEGMENT_PREALLOCATION = 1024 * 1024;

/** The next segment's file is prepared once this much of the current one is used (or half of
 * it, if smaller): early enough that zero-filling is done long before the rollover, even
 * under heavy writes, yet a member that barely writes never prepares one. */
const PREPARE_AFTER = FIRST_SEGMENT_PREALLOCATION / 2;

export interface WalOptions {
  /** Segments are preallocated to this size, and a new one is started once it is full. */
  segmentSize?: number;
  /** --unsafe-no-fsync: never fsync the log's data (directories still are, as in etcd). */
  unsafeNoFsync?: boolean;
}

/** Any segment present means the member was initialized before (spec/bootstrap.md §7). */
export function walExists(walDir: string): boolean {
  return listDir(walDir).some((n) => n.endsWith(".wal"));
}

export class Wal {
  #dir: string;
  #metadata: Uint8Array;
  #segmentSize: number;
  #file: StorageFile;
  #segments: SegmentName[];
  /** Where the next record goes: the end of the last record in the current segment. */
  #size: number;
  /** The current segment's preallocated length; writing at or past it grows the file. */
  #capacity: number;
  /** The current segment's bytes before this offset are fsync'd; the rest may be lost. */
  #synced: number;
  #pipeline: SegmentPipeline;
  #lastIndex: number;
  #hardState: HardState;
  #unsynced = false;
  #noFsync: boolean;
  #queue: Promise<unknown> = Promise.resolve();
  #failed: Error | undefined;
  #closed = false;

  /** Use createWal() or openWal(). `file` is positioned at `size`. */
  constructor(init: {
    dir: string;
    metadata: Uint8Array;
    file: StorageFile;
    segments: SegmentName[];
    size: number;
    capacity: number;
    lastIndex: number;
    hardState: HardState;
    options?: WalOptions;
  }) {
    this.#dir = init.dir;
    this.#metadata = init.metadata;
    this.#file = init.file;
    this.#segments = init.segments;
    this.#size = init.size;
    this.#capacity = init.capacity;
    this.#synced = init.size;
    this.#lastIndex = init.lastIndex;
    this.#hardState = init.hardState;
    this.#segmentSize = init.options?.segmentSize ?? DEFAULT_SEGMENT_SIZE;
    this.#noFsync = init.options?.unsafeNoFsync ?? false;
    this.#pipeline = new SegmentPipeline(init.dir, this.#segmentSize);
    this.#pipeline.sync = !this.#noFsync;
    this.#preparePipeline();
  }

  /** The directory of the segment files. */
  get dir(): string {
    return this.#dir;
  }

  /** Names of the live segments (not released), oldest first. */
  get segments(): string[] {
    return this.#segments.map((s) => s.name);
  }

  /** --unsafe-no-fsync: from now on nothing is fsync'd (acknowledged writes may be lost). */
  set unsafeNoFsync(on: boolean) {
    this.#noFsync = on;
    this.#pipeline.sync = !on;
  }

  get unsafeNoFsync(): boolean {
    return this.#noFsync;
  }

  /** Resolves once the file for the next segment is prepared (true), or when none is being
   * prepared (false). Saves never wait for it; tests and benchmarks do. */
  nextSegmentPrepared(): Promise<boolean> {
    return this.#pipeline.settled();
  }

  /**
   * Writes the entries, then the hard state, in one write(); with `sync` (raft's mustSync)
   * the data is fsync'd before the promise resolves. Entries must be consecutive; an entry
   * whose index is already in the log replaces it and everything after it.
   */
  save(hardState: HardState | undefined, entries: Entry[], sync: boolean): Promise<void> {
    // Records go to the log in index order: a gap or a jump back would be replayed as written.
    // Checked before the write is queued, so a refused batch leaves the log as it was.
    try {
      for (let i = 1; i < entries.length; i++) {
        assert(
          entries[i].index === entries[i - 1].index + 1,
          `wal: non-consecutive entries ${entries[i - 1].index}, ${entries[i].index}`,
        );
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#run(async () => {
      assert(
        entries.length === 0 || entries[0].index <= this.#lastIndex + 1,
        `wal: entry ${entries[0]?.index} would leave a gap after ${this.#lastIndex}`,
      );
      let size = hardState ? recordSize(24) : 0;
      for (const e of entries) size += entryRecordSize(e);
      if (size > 0) {
        const buf = new Uint8Array(size);
        let off = 0;
        for (const e of entries) off = putEntryRecord(buf, off, e);
        if (hardState) putRecord(buf, off, RecordType.HardState, encodeHardStatePayload(hardState));
        this.#write(buf);
        if (entries.length > 0) this.#lastIndex = entries[entries.length - 1].index;
        if (hardState) this.#hardState = { ...hardState };
      }
      await this.#afterWrite(sync);
    });
  }

  /** Records that a snapshot at index/term exists, so openWal() may start from it. */
  saveSnapshot(meta: { index: number; term: number }): Promise<void> {
    return this.#run(async () => {
      const buf = new Uint8Array(recordSize(16));
      putRecord(buf, 0, RecordType.Snapshot, encodeSnapshotPayload(meta));
      this.#write(buf);
      if (this.#lastIndex < meta.index) this.#lastIndex = meta.index;
      await this.#afterWrite(true);
    });
  }
  /**
   * Releases the segments that hold only entries below `index`: every segment before the last
   * one whose name index is <= `index`. Their files stay until purge() removes them (etcd
   * unlocks them and its purge loop deletes them). The segment that may contain `index`
   * stays live, so a snapshot marker at `index` written before this call stays readable.
   */
  releaseTo(index: number): Promise<void> {
    return this.#run(() => {
      let keep = 0;
      for (let i = 0; i < this.#segments.length; i++) {
        if (this.#segments[i].index <= index) keep = i;
      }
      this.#segments = this.#segments.slice(keep);
      return Promise.resolve();
    });
  }

  /**
   * etcd's purge of `*.wal` files (--max-wals; 0 keeps all): while more than `maxFiles` remain,
   * deletes the oldest, stopping at the first live one (etcd holds a lock on those).
   */
  purge(maxFiles: number): Promise<Purged> {
    return this.#run(async () => {
      const live = new Set(this.segments);
      const out = await purgeFiles(this.#dir, ".wal", maxFiles, (name) => live.has(name));
      for (const path of out.purged) await removeIfExists(path + ".broken");
      return out;
    });
  }

  /** Flushes anything unsynced and closes the current segment; after a failure it only
   * closes. A file being prepared for the next segment is abandoned and removed. */
  close(): Promise<void> {
    const next = this.#queue.then(async () => {
      if (this.#closed) return;
      this.#closed = true;
      try {
        if (this.#unsynced && !this.#failed) await this.#sync();
      } finally {
        this.#file.close();
        await this.#pipeline.close();
      }
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Runs WAL operations one at a time, in call order. After an I/O error the log is
   * unusable: what reached the disk is unknown, so nothing more may be acknowledged. */
  #run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(async () => {
      if (this.#closed) throw new WalError("wal: closed");
      if (this.#failed) throw new WalError(`wal: unusable after earlier error: ${this.#failed}`);
      try {
        return await op();
      } catch (err) {
        // A WalError is a refused request that wrote nothing; anything else is I/O.
        if (!(err instanceof WalError)) this.#failed = err as Error;
        throw err;
      }
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  #write(buf: Uint8Array) {
    try {
      if (failpoints.on) hitSync("walBeforeWrite");
      writeAllSync(this.#file, buf);
    } catch (err) {
      throw ioError("write", this.#tailPath(), err);
    }
    walWritten(buf.length);
    this.#size += buf.length;
    this.#unsynced = true;
  }

  async #sync() {
    // Under --unsafe-no-fsync nothing is fsync'd, and etcd observes no fsync time either.
    if (!this.#noFsync) {
      if (failpoints.on) await this.#beforeSync();
      const start = performance.now();
      try {
        await this.#file.syncData();
      } catch (err) {
        throw ioError("sync", this.#tailPath(), err);
      }
      diskMetrics.walFsyncSeconds.observe(secondsSince(start));
      this.#synced = this.#size;
    }
    this.#unsynced = false;
    if (failpoints.on) await hit("walAfterSync");
  }

  // The failpoints before an fsync: a power cut, or an fsync that fails and, as Linux may
  // after a writeback error, loses the unsynced bytes with it.
  async #beforeSync() {
    const unsynced = { path: this.#tailPath(), synced: this.#synced, end: this.#size };
    const cut = await evaluate("walPowerCut");
    if (cut) powerCut(unsynced, cut.value === "torn");
    try {
      await hit("walBeforeSync");
    } catch (err) {
      loseUnsynced(unsynced);
      throw ioError("sync", unsynced.path, err);
    }
  }

  #tailPath(): string {
    return join(this.#dir, this.#segments[this.#segments.length - 1].name);
  }

  /**
   * Rolls over to a new segment when this one is full, or, while this one grows past its
   * preallocated space (a first segment, or a log written before preallocation), as soon as
   * a prepared file can take over; otherwise syncs if asked to. A full segment waits for
   * the file being prepared, which starts almost a segment ahead and so is normally done.
   */
  async #afterWrite(sync: boolean) {
    this.#preparePipeline();
    const full = this.#size >= this.#segmentSize;
    const growing = this.#size >= this.#capacity;
    if (full && this.#pipeline.state === "preparing") await this.#pipeline.settled();
    if (full || (growing && this.#pipeline.state === "ready")) await this.#cut();
    else if (sync && this.#unsynced) await this.#sync();
  }

  #preparePipeline() {
    const room = Math.min(this.#capacity, this.#segmentSize);
    if (this.#size >= Math.min(room / 2, PREPARE_AFTER)) this.#pipeline.start();
  }

  /** Closes the current segment and starts the next one, named after the next entry's index,
   * in the prepared file when there is one (else in a new file, which then grows). */
  async #cut() {
    await this.#sync();
    this.#file.close();
    const last = this.#segments[this.#segments.length - 1];
    const seg = {
      name: segmentName(last.seq + 1, this.#lastIndex + 1),
      seq: last.seq + 1,
      index: this.#lastIndex + 1,
    };
    const header = segmentHeader(this.#metadata, this.#hardState);
    const prepared = this.#pipeline.take();
    const created = await createSegment(this.#dir, seg.name, header, prepared, !this.#noFsync);
    this.#file = created.file;
    this.#capacity = created.capacity;
    this.#segments.push(seg);
    this.#size = this.#synced = header.length;
    this.#preparePipeline();
  }
}

/** Starts a new log in `walDir` (created if missing) whose segments carry `metadata`. */
export async function createWal(
  walDir: string,
  metadata: Uint8Array,
  options?: WalOptions,
): Promise<Wal> {
  if (walExists(walDir)) throw new WalError(`wal: ${walDir} already holds a log`);
  await mkdirDurable(walDir);
  await removeStaleTemporaries(walDir);
  const seg = { name: segmentName(0, 0), seq: 0, index: 0 };
  const header = segmentHeader(metadata);
  const segmentSize = options?.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  const preallocate = Math.min(segmentSize, FIRST_SEGMENT_PREALLOCATION);
  const { file, capacity } = await createSegment(
    walDir,
    seg.name,
    header,
    undefined,
    !options?.unsafeNoFsync,
    preallocate,
  );
  return new Wal({
    dir: walDir,
    metadata: metadata.slice(),
    file,
    segments: [seg],
    size: header.length,
    capacity,
    lastIndex: 0,
    hardState: { term: 0, vote: 0n, commit: 0 },
    options,
  });
}
