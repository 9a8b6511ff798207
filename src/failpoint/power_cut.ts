// A simulated power cut: whatever a file holds past its last fsync lives only in the page cache
// and is lost with the machine. The file gets back what it held before (zeros: the log's
// preallocated space), the loss is made durable, and the process dies at once.

/** A power cut tears writes at the disk's sector: each 512-byte sector is written or not. */
const SECTOR = 512;

export interface Unsynced {
  path: string;
  /** Everything before this offset was fsync'd. */
  synced: number;
  /** The file's data ends here; [synced, end) is only in the page cache. */
  end: number;
}

/**
 * The unsynced bytes are lost (replaced by zeros, made durable), or with `torn` all but a random
 * number of whole sectors of them (the disk wrote some back). Returns where the kept data
 * ends. What a failed fsync does too: Linux may drop the dirty pages after a writeback error.
 */
export function loseUnsynced(
  u: Unsynced,
  torn = false,
  random: () => number = Math.random,
): number {
  let keep = u.synced;
  if (torn && u.end > u.synced) {
    // Where the written-back data may end: the last synced byte, or any sector boundary after.
    const ends = [u.synced];
    for (let p = Math.floor(u.synced / SECTOR + 1) * SECTOR; p < u.end + SECTOR; p += SECTOR) {
      ends.push(Math.min(p, u.end));
    }
    keep = ends[Math.floor(random() * ends.length)];
  }
  const f = Deno.openSync(u.path, { write: true });
  try {
    f.seekSync(keep, Deno.SeekMode.Start);
    const zeros = new Uint8Array(Math.max(0, u.end - keep));
    for (let off = 0; off < zeros.length;) off += f.writeSync(zeros.subarray(off));
    f.syncDataSync();
  } finally {
    f.close();
  }
  return keep;
}

/** Cuts the power: loseUnsynced(), a line on stderr saying what was lost, then SIGKILL. */
export function powerCut(u: Unsynced, torn: boolean, random: () => number = Math.random): never {
  const keep = loseUnsynced(u, torn, random);
  const line = `failpoint walPowerCut: power cut; ${u.path} lost ${u.end - keep} unsynced ` +
    `bytes at offset ${keep} (${keep - u.synced} of ${u.end - u.synced} reached the disk)\n`;
  Deno.stderr.writeSync(new TextEncoder().encode(line));
  Deno.kill(Deno.pid, "SIGKILL");
  return Deno.exit(137);
}
