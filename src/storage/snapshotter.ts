// Raft snapshots on disk: `<snap dir>/<term 16 hex>-<index 16 hex>.snap`, one file each,
// written atomically (temporary name, fsync, rename, directory fsync) and checksummed.
//
// File layout: "ETSNAP01", u32 LE CRC-32C of the body, then the body: u64 index, u64 term,
// u32 voter count + u64 voters, u32 learner count + u64 learners, u64 data length, data.

import { crc32c } from "../checksum/mod.ts";
import { hex16, join, listDir, mkdirDurable, parseHex16, removeIfExists } from "./fsutil.ts";
import { writeFileAtomic } from "./fsutil.ts";
import { storageFs } from "./fs.ts";
import { type Purged, purgeFiles } from "./purge.ts";
import type { Snapshot } from "../raft/mod.ts";
import { secondsSince, snapMetrics } from "../metrics/mod.ts";

const MAGIC = new TextEncoder().encode("ETSNAP01");
const SNAP_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export function snapshotName(term: number, index: number): string {
  return `${hex16(term)}-${hex16(index)}.snap`;
}

export class Snapshotter {
  readonly dir: string;
  #warn: (msg: string) => void;

  constructor(snapDir: string, options?: { warn?: (msg: string) => void }) {
    this.dir = snapDir;
    this.#warn = options?.warn ?? (() => {});
  }

  /** Writes the snapshot durably; an empty snapshot (index 0) is not written, as in etcd. */
  async save(s: Snapshot): Promise<void> {
    if (s.metadata.index === 0) return;
    await mkdirDurable(this.dir);
    const name = snapshotName(s.metadata.term, s.metadata.index);
    const start = performance.now();
    const body = encodeSnapshotFile(s);
    snapMetrics.marshallingSeconds.observe(secondsSince(start));
    const writing = performance.now();
    await writeFileAtomic(join(this.dir, name), body);
    // etcd's "fsync" histogram times its whole write-and-sync of the file, as here.
    snapMetrics.fsyncSeconds.observe(secondsSince(writing));
    snapMetrics.saveSeconds.observe(secondsSince(start));
  }

  /**
   * The newest snapshot that passes its checksum (among those `usable` accepts, by index and
   * term). Damaged files are renamed to `<name>.broken` (kept for inspection, never read again)
   * and the next older one is tried.
   */
  async loadNewest(
    usable: (index: number, term: number) => boolean = () => true,
  ): Promise<Snapshot | undefined> {
    // At start, as etcd's snapNames does: a temporary file here was left by a crash. Later
    // (the purge loop) it may be a save in progress, whose rename would then fail.
    for (const name of listDir(this.dir)) {
      if (name.endsWith(".snap.tmp")) await removeIfExists(join(this.dir, name));
    }
    for (const name of this.#names()) {
      const [, term, index] = SNAP_NAME.exec(name)!.map((h) => parseInt(h, 16));
      if (!usable(index, term)) continue;
      const path = join(this.dir, name);
      try {
        return decodeSnapshotFile(await storageFs().readFile(path), name);
      } catch (err) {
        if (!(err instanceof SnapshotError)) throw err;
        this.#warn(`snap: ${path} is unreadable (${err.message}); renaming it to ${name}.broken`);
        await storageFs().rename(path, path + ".broken");
      }
    }
    return undefined;
  }

  /**
   * Deletes all but the newest `keep` files ending in `suffix` (etcd purges "snap" and
   * "snap.db" files to --max-snapshots; 0 keeps all). Temporary files are a save's own.
   */
  async purge(keep: number, suffix = "snap"): Promise<Purged> {
    return await purgeFiles(this.dir, suffix, keep);
  }

  /** Snapshot file names, newest (highest term, then index) first. */
  #names(): string[] {
    return listDir(this.dir).filter((n) => SNAP_NAME.test(n)).sort().reverse();
  }
}

class SnapshotError extends Error {}

export function encodeSnapshotFile(s: Snapshot): Uint8Array {
  const { voters, learners } = s.metadata.confState;
  const bodyLen = 16 + 4 + 8 * voters.length + 4 + 8 * learners.length + 8 + s.data.length;
  const out = new Uint8Array(12 + bodyLen);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  let off = 12;
  view.setBigUint64(off, BigInt(s.metadata.index), true);
  view.setBigUint64(off + 8, BigInt(s.metadata.term), true);
  off += 16;
  for (const ids of [voters, learners]) {
    view.setUint32(off, ids.length, true);
    off += 4;
    for (const id of ids) {
      view.setBigUint64(off, BigInt.asUintN(64, id), true);
      off += 8;
    }
  }
  view.setBigUint64(off, BigInt(s.data.length), true);
  out.set(s.data, off + 8);
  view.setUint32(8, crc32c(out.subarray(12)), true);
  return out;
}

/** Decodes and verifies a snapshot file; throws SnapshotError when it cannot be trusted. */
export function decodeSnapshotFile(buf: Uint8Array, name: string): Snapshot {
  if (buf.length < 12 || !MAGIC.every((b, i) => buf[i] === b)) {
    throw new SnapshotError("not a snapshot file");
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (crc32c(buf.subarray(12)) !== view.getUint32(8, true)) {
    throw new SnapshotError("crc mismatch");
  }
  try {
    let off = 12;
    const u64 = () => {
      const n = Number(view.getBigUint64(off, true));
      off += 8;
      return n;
    };
    const index = u64();
    const term = u64();
    const ids = () => {
      const n = view.getUint32(off, true);
      off += 4;
      return Array.from({ length: n }, () => {
        off += 8;
        return view.getBigUint64(off - 8, true);
      });
    };
    const voters = ids();
    const learners = ids();
    const dataLen = u64();
    if (off + dataLen !== buf.length) throw new SnapshotError("length mismatch");
    const m = SNAP_NAME.exec(name);
    if (m && (parseHex16(m[1]) !== term || parseHex16(m[2]) !== index)) {
      throw new SnapshotError(`file name does not match term ${term} index ${index}`);
    }
    return { metadata: { index, term, confState: { voters, learners } }, data: buf.slice(off) };
  } catch (err) {
    if (err instanceof RangeError) throw new SnapshotError("truncated");
    throw err;
  }
}
