// Opening an existing WAL: choose the segments from the one that may hold `from`, replay their
// records into the state raft restarts from, repair a torn final write, and reopen the last
// segment where its records end.

import { dirname, FILE_MODE, join, removeIfExists, syncDir, writeAll } from "./fsutil.ts";
import { storageFs } from "./fs.ts";
import {
  decodeEntryPayload,
  decodeHardStatePayload,
  decodeSnapshotPayload,
  RecordType,
} from "./record.ts";
import {
  listSegments,
  type ScannedRecord,
  scanSegment,
  type SegmentName,
  WalError,
} from "./segment.ts";
import type { Entry, HardState } from "../raft/mod.ts";
import { Wal, type WalOptions } from "./wal.ts";
import { removeStaleTemporaries } from "./segment_file.ts";

/** What openWal() removed from the end of the last segment. */
export interface WalRepair {
  file: string;
  /** The log now ends here; the dropped bytes were overwritten with zeros. */
  offset: number;
  droppedBytes: number;
  reason: string;
  /** Where the dropped bytes were kept for inspection. */
  brokenCopy: string;
  message: string;
}

export interface OpenedWal {
  wal: Wal;
  metadata: Uint8Array;
  hardState: HardState;
  /** Entries after `from`, with later records for an index replacing earlier ones. */
  entries: Entry[];
  repaired: WalRepair | undefined;
}

/**
 * Opens the log in `walDir` and returns everything after `from`, a snapshot's index/term (its
 * marker must be in the log) or {index: 0, term: 0}. A torn last record is zeroed and
 * reported in `repaired`; damage anywhere else throws WalError naming the file and offset.
 * Zeros after the last record are the segment's preallocated space, not damage.
 */
export async function openWal(
  walDir: string,
  from: { index: number; term: number },
  options?: WalOptions,
): Promise<OpenedWal> {
  await removeStaleTemporaries(walDir);
  const segments = segmentsFrom(walDir, from.index);
  const replay = new Replay(from);
  let repaired: WalRepair | undefined;
  let lastEnd = 0;
  let lastCapacity = 0;
  for (let i = 0; i < segments.length; i++) {
    const path = join(walDir, segments[i].name);
    const isLast = i === segments.length - 1;
    const buf = await storageFs().readFile(path);
    const { records, end, tear } = scanSegment(buf, path, isLast);
    if (records.length === 0 || records[0].type !== RecordType.Metadata) {
      throw new WalError(`wal: ${path} does not start with a metadata record; refusing to start`);
    }
    for (const r of records) replay.record(r, path);
    if (tear) repaired = await repairTail(path, buf, tear.offset, tear.end, tear.reason);
    if (isLast) [lastEnd, lastCapacity] = [end, buf.length];
  }
  const { metadata, hardState, entries, lastIndex } = replay.finish(walDir);
  // Appending goes on where the last segment's records end.
  const tail = join(walDir, segments[segments.length - 1].name);
  const file = await storageFs().open(tail, { write: true });
  // What a killed process wrote may still be only in the page cache: make it durable before
  // raft counts on it (a follower acknowledges what its log holds).
  await file.syncData();
  await file.seek(lastEnd, Deno.SeekMode.Start);
  const wal = new Wal({
    dir: walDir,
    metadata,
    file,
    segments,
    size: lastEnd,
    capacity: lastCapacity,
    lastIndex,
    hardState,
    options,
  });
  return { wal, metadata: metadata.slice(), hardState, entries, repaired };
}

/**
 * The snapshots a restart may start from (etcd's ValidSnapshotEntries): those whose marker the
 * log holds at or below its last hard state's commit index, and the empty one. A snapshot from
 * the leader that was saved but whose hard state never reached the log (the member died
 * between the two) is not among them; raft would refuse that hard state with it.
 */
export async function validSnapshotEntries(
  walDir: string,
): Promise<{ index: number; term: number }[]> {
  const segments = listSegments(walDir);
  const markers = [{ index: 0, term: 0 }];
  let commit = 0;
  for (let i = 0; i < segments.length; i++) {
    const path = join(walDir, segments[i].name);
    const buf = await storageFs().readFile(path);
    const { records } = scanSegment(buf, path, i === segments.length - 1);
    for (const r of records) {
      const at = () => `${path} at offset ${r.offset}`;
      if (r.type === RecordType.Snapshot) markers.push(decode(r, decodeSnapshotPayload, at));
      if (r.type === RecordType.HardState) commit = decode(r, decodeHardStatePayload, at).commit;
    }
  }
  return markers.filter((m) => m.index <= commit);
}

/** The segments to read: from the last one whose first index is at most `fromIndex` on. */
function segmentsFrom(walDir: string, fromIndex: number): SegmentName[] {
  const all = listSegments(walDir);
  if (all.length === 0) throw new WalError(`wal: no segment files in ${walDir}`);
  let start = -1;
  for (let i = 0; i < all.length; i++) if (all[i].index <= fromIndex) start = i;
  if (start < 0) {
    throw new WalError(
      `wal: no segment in ${walDir} can hold index ${fromIndex} (oldest is ${all[0].name})`,
    );
  }
  return all.slice(start);
}

/**
 * The state replaying the records rebuilds (etcd's WAL.ReadAll): the metadata every segment
 * repeats, the last hard state, the entries after the snapshot (a later record for an index
 * replaces the earlier one and everything after it, as a new leader's log does), and whether
 * the snapshot the caller starts from has its marker in the log.
 */
class Replay {
  private metadata: Uint8Array | undefined;
  private hardState: HardState = { term: 0, vote: 0n, commit: 0 };
  private readonly entries: Entry[] = [];
  private lastIndex: number;
  private snapshotFound: boolean;

  constructor(private readonly from: { index: number; term: number }) {
    this.lastIndex = from.index;
    this.snapshotFound = from.index === 0 && from.term === 0;
  }

  record(r: ScannedRecord, path: string): void {
    const at = () => `${path} at offset ${r.offset}`;
    switch (r.type) {
      case RecordType.Metadata:
        if (this.metadata && !bytesEqual(this.metadata, r.payload)) {
          throw new WalError(`wal: conflicting metadata in ${at()}`);
        }
        this.metadata ??= r.payload.slice();
        break;
      case RecordType.Entry:
        this.entry(decode(r, decodeEntryPayload, at), at);
        break;
      case RecordType.HardState:
        this.hardState = decode(r, decodeHardStatePayload, at);
        break;
      case RecordType.Snapshot:
        this.snapshot(decode(r, decodeSnapshotPayload, at));
        break;
    }
  }

  private entry(e: Entry, at: () => string): void {
    const from = this.from.index;
    this.lastIndex = e.index;
    if (e.index <= from) return;
    const pos = e.index - from - 1;
    if (pos > this.entries.length) {
      throw new WalError(
        `wal: missing entries before index ${e.index} in ${at()} ` +
          `(log ends at ${from + this.entries.length})`,
      );
    }
    this.entries.length = pos;
    this.entries.push(e);
  }

  private snapshot(s: { index: number; term: number }): void {
    // A snapshot received from the leader moves the log past entries it never had.
    if (s.index > this.lastIndex) this.lastIndex = s.index;
    if (s.index !== this.from.index) return;
    if (s.term !== this.from.term) {
      throw new WalError(
        `wal: snapshot mismatch at index ${s.index}: log has term ${s.term}, ` +
          `snapshot has term ${this.from.term}`,
      );
    }
    this.snapshotFound = true;
  }

  /** What the whole log said; refuses a log without the caller's snapshot marker. */
  finish(walDir: string) {
    const { index, term } = this.from;
    if (!this.snapshotFound) {
      throw new WalError(
        `wal: snapshot not found: no marker for index ${index} term ${term} in ${walDir}`,
      );
    }
    return {
      // Every segment starts with a metadata record, checked before its records are replayed.
      metadata: this.metadata!,
      hardState: this.hardState,
      entries: this.entries,
      lastIndex: Math.max(this.lastIndex, index),
    };
  }
}

function decode<T>(r: ScannedRecord, fn: (p: Uint8Array) => T, at: () => string): T {
  try {
    return fn(r.payload);
  } catch (err) {
    throw new WalError(`wal: undecodable record in ${at()}: ${(err as Error).message}`);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Keeps the torn bytes in `<segment>.broken` (as etcd keeps a copy of what it repairs), then
 * overwrites them with zeros and makes that durable. The file keeps its length: the space was
 * preallocated, and the log goes on writing at `offset`.
 */
async function repairTail(
  path: string,
  buf: Uint8Array,
  offset: number,
  end: number,
  reason: string,
) {
  const brokenCopy = path + ".broken";
  await removeIfExists(brokenCopy);
  const fs = storageFs();
  const copy = await fs.open(brokenCopy, { write: true, create: true, mode: FILE_MODE });
  try {
    await writeAll(copy, buf.subarray(offset, end));
    await copy.syncData();
  } finally {
    copy.close();
  }
  const f = await fs.open(path, { write: true });
  try {
    await f.seek(offset, Deno.SeekMode.Start);
    await writeAll(f, new Uint8Array(end - offset));
    await f.syncData();
  } finally {
    f.close();
  }
  await syncDir(dirname(path));
  const droppedBytes = end - offset;
  return {
    file: path,
    offset,
    droppedBytes,
    reason,
    brokenCopy,
    message: `wal: repaired torn tail of ${path}: ${reason} at offset ${offset}, ` +
      `dropped ${droppedBytes} bytes (kept in ${brokenCopy})`,
  };
}
