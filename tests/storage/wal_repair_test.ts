// Torn tails are repaired; damage to anything that is not the final write refuses to start.

import assert from "node:assert/strict";
import { createWal, openWal, WalError } from "../../src/storage/mod.ts";
import { dataEnd, entries, entry, hs, META, recordStarts, walFiles } from "../helpers/storage.ts";
import { tempDir } from "../helpers/tmp.ts";

const ZERO = { index: 0, term: 0 };
const CORRUPT = /wal: .* in .*\.wal at offset \d+.*: the log is corrupt; refusing to start$/;

/** A log of entries 1..5 (synced one by one) and a final record, entry 6 with a 120-byte value.
 * Returns the segment path, where the final record starts and where it ends; the segment is
 * preallocated, so zeros follow up to the end of the file. */
async function logWithFinalRecord(
  dir: string,
): Promise<{ path: string; lastStart: number; end: number }> {
  const wal = await createWal(dir, META);
  for (let i = 1; i <= 5; i++) await wal.save(hs(1, i - 1), [entry(i)], true);
  const path = `${dir}/${walFiles(dir)[0]}`;
  const lastStart = dataEnd(await Deno.readFile(path));
  await wal.save(undefined, [entry(6, 1, "x".repeat(120))], true);
  await wal.close();
  return { path, lastStart, end: dataEnd(await Deno.readFile(path)) };
}

function allZero(buf: Uint8Array): boolean {
  return buf.every((b) => b === 0);
}

Deno.test("wal repair: a cut at every byte of the final record loses only that record", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const { path, lastStart, end } = await logWithFinalRecord(tmp.path);
  const full = await Deno.readFile(path);
  assert.ok(end - lastStart > 120);
  // Cutting off the record's zero padding changes nothing, so cut up to its last data byte.
  let lastData = end;
  while (full[lastData - 1] === 0) lastData--;
  for (let cut = lastStart; cut < lastData; cut++) {
    // The crash left the final write's first `cut - lastStart` bytes over the preallocated
    // zeros.
    const damaged = full.slice();
    damaged.fill(0, cut, end);
    await Deno.writeFile(path, damaged);
    const o = await openWal(tmp.path, ZERO);
    try {
      assert.deepEqual(o.entries, entries(1, 5), `cut at ${cut}`);
      assert.deepEqual(o.hardState, hs(1, 4));
      if (cut === lastStart) {
        assert.equal(o.repaired, undefined);
      } else {
        assert.equal(o.repaired?.offset, lastStart, `cut at ${cut}`);
        // Zero bytes at the end of what was written are not data to drop.
        const dropped = o.repaired!.droppedBytes;
        assert.ok(dropped > 0 && dropped <= cut - lastStart, `cut at ${cut}: ${dropped}`);
        assert.ok(allZero(damaged.subarray(lastStart + dropped, cut)));
        assert.match(o.repaired!.message, /repaired torn tail/);
      }
      // The torn bytes are zeroed; the preallocated file keeps its size.
      const repaired = await Deno.readFile(path);
      assert.equal(repaired.length, full.length);
      assert.ok(allZero(repaired.subarray(lastStart)), `cut at ${cut}`);
      // The repaired log takes writes again, where the torn record was.
      await o.wal.save(undefined, [entry(6, 2, "again")], true);
    } finally {
      await o.wal.close();
    }
    const again = await openWal(tmp.path, ZERO);
    assert.deepEqual(again.entries, [...entries(1, 5), entry(6, 2, "again")]);
    assert.equal(again.repaired, undefined);
    await again.wal.close();
    assert.equal((await Deno.stat(path)).size, full.length);
  }
});

Deno.test("wal repair: a segment cut short (written before preallocation) is repaired", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const { path, lastStart, end } = await logWithFinalRecord(tmp.path);
  const full = await Deno.readFile(path);
  for (const cut of [lastStart, lastStart + 3, lastStart + 8, lastStart + 50, end - 1, end]) {
    await Deno.writeFile(path, full.subarray(0, cut));
    const o = await openWal(tmp.path, ZERO);
    try {
      const whole = cut === end;
      assert.deepEqual(o.entries.length, whole ? 6 : 5, `cut at ${cut}`);
      if (cut === lastStart || whole) assert.equal(o.repaired, undefined);
      else assert.equal(o.repaired?.offset, lastStart, `cut at ${cut}`);
      const repaired = await Deno.readFile(path);
      assert.equal(repaired.length, cut, "a repair never changes the file's length");
      assert.ok(allZero(repaired.subarray(whole ? end : lastStart)));
      await o.wal.save(undefined, [entry(whole ? 7 : 6, 2, "again")], true);
    } finally {
      await o.wal.close();
    }
    const again = await openWal(tmp.path, ZERO);
    assert.equal(again.entries.at(-1)?.data.length, 5);
    assert.equal(again.repaired, undefined);
    await again.wal.close();
  }
});

Deno.test("wal repair: the dropped bytes are kept in <segment>.broken", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const { path, lastStart, end } = await logWithFinalRecord(tmp.path);
  const full = await Deno.readFile(path);
  const damaged = full.slice();
  damaged.fill(0, lastStart + 40, end); // byte lastStart + 39 is in the value: non-zero
  await Deno.writeFile(path, damaged);
  const o = await openWal(tmp.path, ZERO);
  await o.wal.close();
  assert.equal(o.repaired?.brokenCopy, path + ".broken");
  assert.equal(o.repaired?.droppedBytes, 40);
  assert.deepEqual(await Deno.readFile(path + ".broken"), full.subarray(lastStart, lastStart + 40));
});

Deno.test("wal repair: zeros after a whole record end the log; after part of one, it is torn", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const { path, lastStart, end } = await logWithFinalRecord(tmp.path);
  const full = await Deno.readFile(path);
  for (const cut of [lastStart, lastStart + 8, lastStart + 100, end]) {
    // Beyond the preallocated space too: a file system may have allocated more zeros.
    const damaged = new Uint8Array(full.length + 4096);
    damaged.set(full.subarray(0, cut));
    await Deno.writeFile(path, damaged);
    const o = await openWal(tmp.path, ZERO);
    await o.wal.close();
    const whole = cut === lastStart || cut === end;
    assert.deepEqual(
      o.entries.map((e) => e.index),
      entries(1, cut === end ? 6 : 5).map((e) => e.index),
    );
    assert.equal(o.repaired?.offset, whole ? undefined : lastStart, `cut at ${cut}`);
    await Deno.writeFile(path, full);
  }
});

Deno.test("wal repair: a checksum mismatch in the final record is torn", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const { path, lastStart, end } = await logWithFinalRecord(tmp.path);
  const full = await Deno.readFile(path);
  for (const at of [lastStart, lastStart + 4, lastStart + 9, lastStart + 100, end - 1]) {
    const damaged = full.slice();
    damaged[at] ^= 0x40;
    await Deno.writeFile(path, damaged);
    const o = await openWal(tmp.path, ZERO);
    await o.wal.close();
    assert.deepEqual(o.entries, entries(1, 5), `flip at ${at}`);
    assert.equal(o.repaired?.offset, lastStart);
    await Deno.writeFile(path, full);
  }
});

Deno.test("wal repair: a flipped byte in any earlier record refuses to open", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const { path, lastStart } = await logWithFinalRecord(tmp.path);
  const full = await Deno.readFile(path);
  for (let at = 0; at < lastStart; at++) {
    const damaged = full.slice();
    damaged[at] ^= 0x01;
    await Deno.writeFile(path, damaged);
    const err = await openWal(tmp.path, ZERO).then(
      (o) => o.wal.close().then(() => assert.fail(`flip at ${at} was accepted`)),
      (e) => e,
    );
    assert.ok(err instanceof WalError, `flip at ${at}: ${err}`);
    assert.match(err.message, CORRUPT);
    assert.ok(err.message.includes(path), err.message);
  }
  // The damaged file was not modified by the refused opens.
  const damaged = full.slice();
  damaged[20] ^= 0x01;
  await Deno.writeFile(path, damaged);
  await assert.rejects(openWal(tmp.path, ZERO));
  assert.deepEqual(await Deno.readFile(path), damaged);
});

Deno.test("wal repair: the message names the file and offset of the bad record", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const { path } = await logWithFinalRecord(tmp.path);
  const full = await Deno.readFile(path);
  // Records: metadata at 0, then entry 1 at a known offset; damage entry 1's value.
  const metaLen = 8 + ((1 + META.length + 7) & ~7);
  const damaged = full.slice();
  damaged[metaLen + 30] ^= 0xff;
  await Deno.writeFile(path, damaged);
  await assert.rejects(
    openWal(tmp.path, ZERO),
    (e: Error) =>
      e.message.startsWith(`wal: crc mismatch in ${path} at offset ${metaLen} `) &&
      e.message.endsWith(": the log is corrupt; refusing to start"),
  );
});

Deno.test("wal repair: damage at the end of a segment that is not the last refuses", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META, { segmentSize: 300 });
  for (let i = 1; i <= 30; i++) await wal.save(hs(1, i), [entry(i)], true);
  await wal.close();
  const names = walFiles(tmp.path);
  assert.ok(names.length >= 3);
  const path = `${tmp.path}/${names[1]}`;
  const full = await Deno.readFile(path);
  const end = dataEnd(full);
  const finalRecord = recordStarts(full).at(-1)!;
  // A cut inside the final record of a non-last segment is not a torn write, whether the rest
  // of the file is gone or zero.
  await Deno.writeFile(path, full.subarray(0, end - 3));
  await assert.rejects(openWal(tmp.path, ZERO), CORRUPT);
  const zeroed = full.slice();
  zeroed.fill(0, finalRecord + 12, end);
  await Deno.writeFile(path, zeroed);
  await assert.rejects(openWal(tmp.path, ZERO), CORRUPT);
  const flipped = full.slice();
  flipped[end - 1] ^= 0x10;
  await Deno.writeFile(path, flipped);
  await assert.rejects(openWal(tmp.path, ZERO), CORRUPT);
});

Deno.test("wal repair: a crash while creating a segment leaves no trace", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await wal.save(hs(1, 1), [entry(1)], true);
  await wal.close();
  await Deno.writeFile(`${tmp.path}/0000000000000001-0000000000000002.wal.tmp`, new Uint8Array(7));
  const o = await openWal(tmp.path, ZERO);
  await o.wal.close();
  assert.deepEqual(o.entries, [entry(1)]);
  assert.deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), [walFiles(tmp.path)[0]]);
});

// A power cut may leave a final write's sectors on disk out of order: one missing (zeros in the
// preallocated space), a later one there. As etcd's decoder does, the log ends at the record
// with the unwritten sector; the records after it were never synced either and go too.
Deno.test("wal repair: a final write with a sector missing before a later one is a torn tail", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  for (let i = 1; i <= 5; i++) await wal.save(hs(1, i - 1), [entry(i)], true);
  const path = `${tmp.path}/${walFiles(tmp.path)[0]}`;
  const lastStart = dataEnd(await Deno.readFile(path));
  await wal.save(undefined, [6, 7, 8, 9].map((i) => entry(i, 1, "v".repeat(300))), true);
  await wal.close();
  const full = await Deno.readFile(path);
  const starts = recordStarts(full).filter((s) => s >= lastStart);
  // The sector holding the middle of entry 7's value never reached the disk.
  const hole = Math.floor((starts[1] + 200) / 512) * 512;
  const damaged = full.slice();
  damaged.fill(0, hole, hole + 512);
  assert.ok(hole + 512 < starts[3], "a whole record follows the hole");
  await Deno.writeFile(path, damaged);
  const o = await openWal(tmp.path, ZERO);
  try {
    const kept = starts.filter((s) => s + 300 < hole).length;
    assert.deepEqual(
      o.entries,
      entries(1, 5 + kept).map((e) => e.index > 5 ? entry(e.index, 1, "v".repeat(300)) : e),
    );
    assert.ok(o.repaired && starts.includes(o.repaired.offset), o.repaired?.message);
    assert.ok(allZero((await Deno.readFile(path)).subarray(o.repaired.offset)));
  } finally {
    await o.wal.close();
  }
});

Deno.test("wal repair: a damaged record (no unwritten sector) before a valid one still refuses", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  for (let i = 1; i <= 5; i++) await wal.save(hs(1, i - 1), [entry(i)], true);
  await wal.save(undefined, [6, 7, 8, 9].map((i) => entry(i, 1, "v".repeat(300))), true);
  await wal.close();
  const path = `${tmp.path}/${walFiles(tmp.path)[0]}`;
  const full = await Deno.readFile(path);
  const starts = recordStarts(full);
  const damaged = full.slice();
  damaged[starts.at(-3)! + 100] ^= 0x40;
  await Deno.writeFile(path, damaged);
  await assert.rejects(openWal(tmp.path, ZERO), (e: Error) => CORRUPT.test(e.message));
});
