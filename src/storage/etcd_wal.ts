// Reading etcd 3.4's write-ahead log (its wal package), to take over a data dir etcd wrote. A
// segment is a run of frames: an 8-byte little-endian length field (record bytes in the low 56
// bits; when the top bit is set, the low 3 bits of the top byte count the zero padding that
// aligns the next frame to 8 bytes), then a marshalled walpb.Record. Each record's crc is a
// CRC-32C chained over the data of every record before it (crc records restart the chain at
// segment boundaries and carry its value). Nothing here writes: etcd's files stay as they are.
import { crc32c } from "../checksum/mod.ts";
import { messages } from "../pb/mod.ts";
import { decodeEntry, decodeHardState, type Entry, type HardState } from "../raft/mod.ts";
import { join, listDir } from "./fsutil.ts";
import { storageFs } from "./fs.ts";
import { parseSegmentName, type SegmentName } from "./segment.ts";

/** etcd's record types (wal/wal.go). */
const METADATA = 1;
const ENTRY = 2;
const STATE = 3;
const CRC = 4;
const SNAPSHOT = 5;

const FRAME_HEADER = 8;
const SECTOR = 512;
/** etcd refuses frames this large (maxWALEntrySizeLimit): no raft entry comes near it. */
const MAX_RECORD = 10 * 1024 * 1024;

export class EtcdWalError extends Error {
  override name = "EtcdWalError";
}

export interface EtcdWalSnapshot {
  index: number;
  term: number;
}

export interface EtcdWal {
  /** The marshalled etcdserverpb.Metadata at the head of every segment. */
  metadata: Uint8Array;
  hardState: HardState;
  /** Entries after the snapshot the log was read from, as the log leaves them (later
   * entries with an index already seen replace it and everything after it). */
  entries: Entry[];
  /** Set when the last segment ends in a torn write, which etcd repairs by cutting it off. */
  tornTail?: string;
}

interface WalRecord {
  type: number;
  data: Uint8Array;
}

/** The segments of a WAL dir in order (etcd ignores files not named like one). */
function etcdWalSegments(walDir: string): SegmentName[] {
  const segs = listDir(walDir).map(parseSegmentName).filter((s) => s !== undefined);
  if (segs.length === 0) throw new EtcdWalError(`wal: file not found in ${walDir}`);
  return segs.sort((a, b) => a.seq - b.seq);
}

/**
 * Every snapshot record whose index the log's last hard state has committed (etcd's
 * ValidSnapshotEntries): the snap files a restart may start from.
 */
export function etcdWalSnapshots(walDir: string): EtcdWalSnapshot[] {
  const snaps: EtcdWalSnapshot[] = [];
  let commit = 0;
  decodeSegments(walDir, etcdWalSegments(walDir), (rec) => {
    if (rec.type === SNAPSHOT) snaps.push(decodeSnapshot(rec.data));
    else if (rec.type === STATE) commit = decodeHardState(rec.data).commit;
  });
  return snaps.filter((s) => s.index <= commit);
}

/** Reads the log from the snapshot `start` (etcd's WAL.ReadAll after Open at `start`). */
export function readEtcdWal(walDir: string, start: EtcdWalSnapshot): EtcdWal {
  const segs = etcdWalSegments(walDir);
  const from = segs.findLastIndex((s) => s.index <= start.index);
  if (from < 0) throw new EtcdWalError(`wal: file not found in ${walDir}`);
  for (let i = from + 1; i < segs.length; i++) {
    if (segs[i].seq !== segs[i - 1].seq + 1) {
      throw new EtcdWalError(`wal: file not found in ${walDir} (segment sequence has a gap)`);
    }
  }
  let metadata: Uint8Array | undefined;
  let hardState: HardState = { term: 0, vote: 0n, commit: 0 };
  let entries: Entry[] = [];
  let matched = false;
  const { tornTail } = decodeSegments(walDir, segs.slice(from), (rec) => {
    switch (rec.type) {
      case ENTRY: {
        const e = decodeEntry(rec.data);
        if (e.index <= start.index) return;
        const up = e.index - start.index - 1;
        if (up > entries.length) throw new EtcdWalError("wal: slice bounds out of range");
        // Copied, so the segment's buffer is not kept alive by the entry.
        entries = entries.slice(0, up);
        entries.push({ ...e, data: e.data.slice() });
        return;
      }
      case STATE:
        hardState = decodeHardState(rec.data);
        return;
      case METADATA:
        if (metadata && !equal(metadata, rec.data)) {
          throw new EtcdWalError("wal: conflicting metadata found");
        }
        metadata = rec.data.slice();
        return;
      case SNAPSHOT: {
        const s = decodeSnapshot(rec.data);
        if (s.index !== start.index) return;
        if (s.term !== start.term) throw new EtcdWalError("wal: snapshot mismatch");
        matched = true;
        return;
      }
      case CRC:
        return;
      default:
        throw new EtcdWalError(`unexpected block type ${rec.type}`);
    }
  });
  if (!matched) throw new EtcdWalError("wal: snapshot not found");
  return { metadata: metadata ?? new Uint8Array(), hardState, entries, tornTail };
}

function decodeSnapshot(data: Uint8Array): EtcdWalSnapshot {
  const s = messages["walpb.Snapshot"].decode(data);
  return { index: s.index, term: s.term };
}

/**
 * Feeds every record of the segments to `onRecord`, checking the crc chain. A torn write at the
 * end of the last segment ends the log there, as etcd's repair would; anything else that fails
 * to decode is corruption.
 */
function decodeSegments(
  walDir: string,
  segs: SegmentName[],
  onRecord: (rec: WalRecord) => void,
): { tornTail?: string } {
  let crc = 0;
  for (let i = 0; i < segs.length; i++) {
    const path = join(walDir, segs[i].name);
    const buf = storageFs().readFileSync(path);
    const isLast = i === segs.length - 1;
    for (let off = 0; off + FRAME_HEADER <= buf.length;) {
      const frame = readFrame(buf, off, path);
      if (frame === "end") break;
      const torn = (why: string) => {
        const tear = `${path} at offset ${off}: ${why}`;
        if (!isLast) throw new EtcdWalError(`wal: ${tear}; the log is corrupt`);
        return tear;
      };
      if (frame === "short") return { tornTail: torn("unexpected EOF") };
      const { body, next } = frame;
      let rec: { type: number; crc: number; data: Uint8Array };
      try {
        rec = messages["walpb.Record"].decode(body);
      } catch (err) {
        if (isTorn(buf, off, next)) return { tornTail: torn("torn write") };
        throw new EtcdWalError(`wal: ${path} at offset ${off}: ${(err as Error).message}`);
      }
      if (rec.type === CRC) {
        // A fresh chain (the first segment read) need not match.
        if (crc !== 0 && rec.crc !== crc) throw new EtcdWalError("wal: crc mismatch");
        crc = rec.crc;
      } else {
        crc = crc32c(rec.data, crc);
        if (rec.crc !== crc) {
          if (isTorn(buf, off, next)) return { tornTail: torn("torn write") };
          throw new EtcdWalError(`wal: crc mismatch in ${path} at offset ${off}`);
        }
      }
      onRecord(rec);
      off = next;
    }
  }
  return {};
}

type Frame = { body: Uint8Array; next: number } | "end" | "short";

function readFrame(buf: Uint8Array, off: number, path: string): Frame {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const field = view.getBigUint64(off, true);
  // A zero length field is the end of the written part of a preallocated segment.
  if (field === 0n) return "end";
  const length = Number(field & 0x00ff_ffff_ffff_ffffn);
  const top = Number(field >> 56n);
  const pad = top & 0x80 ? top & 0x7 : 0;
  if (length >= MAX_RECORD - pad) {
    throw new EtcdWalError(`wal: max entry size limit exceeded (${path} at offset ${off})`);
  }
  const start = off + FRAME_HEADER;
  const next = start + length + pad;
  if (next > buf.length) return "short";
  return { body: buf.subarray(start, start + length), next };
}

/** etcd's isTornEntry: a frame part of which, cut at sector boundaries, is all zeros. */
function isTorn(buf: Uint8Array, frameStart: number, next: number): boolean {
  for (let at = frameStart + FRAME_HEADER; at < next;) {
    const end = Math.min(next, (Math.floor(at / SECTOR) + 1) * SECTOR);
    if (buf.subarray(at, end).every((b) => b === 0)) return true;
    at = end;
  }
  return false;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
