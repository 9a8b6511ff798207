// A simulated power cut: whatever a file holds past its last fsync lives only in the page cache
// and is lost with the machine. The file gets back what it held before (zeros: the log's
// preallocated space), the loss is made durable, and the process dies at once.

const PAGE = 4096;

export interface Unsynced {
  path: string;
  /** Everything before this offset was fsync'd. */
  synced: number;
  /** The file's data ends here; [synced, end) is only in the page cache. */
  end: number;
}

/**
 * Cuts the power: the unsynced bytes are lost, or with `torn` all but a random number of whole
 * pages of them (the disk wrote some pages back before the cut). Never returns.
 */
export function powerCut(u: Unsynced, torn: boolean, random: () => number = Math.random): never {
  let keep = u.synced;
  if (torn && u.end > u.synced) {
    // Where the written-back pages may end: the last synced byte, or any page boundary after.
    const ends = [u.synced];
    for (let p = Math.floor(u.synced / PAGE + 1) * PAGE; p < u.end + PAGE; p += PAGE) {
      ends.push(Math.min(p, u.end));
    }
    keep = ends[Math.floor(random() * ends.length)];
  }
  const f = Deno.openSync(u.path, { write: true });
  f.seekSync(keep, Deno.SeekMode.Start);
  const zeros = new Uint8Array(Math.max(0, u.end - keep));
  for (let off = 0; off < zeros.length;) off += f.writeSync(zeros.subarray(off));
  f.syncDataSync();
  f.close();
  const line = `failpoint walPowerCut: power cut; ${u.path} lost ${zeros.length} unsynced ` +
    `bytes at offset ${keep} (${keep - u.synced} of ${u.end - u.synced} reached the disk)\n`;
  Deno.stderr.writeSync(new TextEncoder().encode(line));
  Deno.kill(Deno.pid, "SIGKILL");
  return Deno.exit(137);
}
