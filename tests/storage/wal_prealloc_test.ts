// Preallocated segments: records overwrite zeros written beforehand, the next segment's file is
// prepared in the background and renamed into place at rollover, and the zeros after the last
// record are the end of the log, not damage.

import assert from "node:assert/strict";
import { createWal, openWal, type Wal } from "../../src/storage/mod.ts";
import { FIRST_SEGMENT_PREALLOCATION } from "../../src/storage/wal.ts";
import { PREPARED_NAME } from "../../src/storage/prealloc.ts";
import { entryRecordSize } from "../../src/storage/record.ts";
import { dataEnd, entries, entry, hs, META, walFiles } from "../helpers/storage.ts";
import { tempDir } from "../helpers/tmp.ts";

const ZERO = { index: 0, term: 0 };
const SEGMENT = 16 * 1024;
const OPTS = { segmentSize: SEGMENT };
const HS_RECORD = 8 + 32;

function isZero(buf: Uint8Array): boolean {
  return buf.every((b) => b === 0);
}

/** Saves entries one per save, from `first`, until `done()`; returns the next index. */
async function saveUntil(wal: Wal, first: number, done: () => boolean): Promise<number> {
  let i = first;
  while (!done()) {
    await wal.save(hs(1, i), [entry(i, 1, "v".repeat(200))], true);
    i++;
  }
  return i;
}

Deno.test("wal prealloc: the first segment is zero-filled and records overwrite it", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META, OPTS);
  const path = `${tmp.path}/${walFiles(tmp.path)[0]}`;
  assert.equal((await Deno.stat(path)).size, SEGMENT);
  const headerEnd = dataEnd(await Deno.readFile(path));
  await wal.save(hs(1, 0), entries(1, 3), true);
  await wal.close();
  let buf = await Deno.readFile(path);
  assert.equal(buf.length, SEGMENT, "writes do not grow a preallocated segment");
  let end = headerEnd + entries(1, 3).reduce((n, e) => n + entryRecordSize(e), 0) + HS_RECORD;
  assert.equal(dataEnd(buf), end);
  assert.ok(isZero(buf.subarray(end)));

  // Zeros after the last record: the normal end of the log, where writing goes on.
  let o = await openWal(tmp.path, ZERO, OPTS);
  assert.equal(o.repaired, undefined);
  assert.deepEqual(o.entries, entries(1, 3));
  assert.deepEqual(o.hardState, hs(1, 0));
  await o.wal.save(hs(1, 3), [entry(4)], true);
  await o.wal.close();
  buf = await Deno.readFile(path);
  assert.equal(buf.length, SEGMENT);
  end += entryRecordSize(entry(4)) + HS_RECORD;
  assert.equal(dataEnd(buf), end);
  assert.ok(isZero(buf.subarray(end)));
  o = await openWal(tmp.path, ZERO, OPTS);
  assert.deepEqual(o.entries, entries(1, 4));
  assert.deepEqual(o.hardState, hs(1, 3));
  assert.equal(o.repaired, undefined);
  await o.wal.close();
  assert.deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), walFiles(tmp.path));
});

Deno.test("wal prealloc: with the default size, the first segment is small and quick", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await wal.close();
  const [name] = walFiles(tmp.path);
  assert.equal((await Deno.stat(`${tmp.path}/${name}`)).size, FIRST_SEGMENT_PREALLOCATION);
});

Deno.test("wal prealloc: a torn save inside preallocated space is zeroed in place", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META, OPTS);
  await wal.save(hs(1, 2), entries(1, 2), true);
  await wal.close();
  const path = `${tmp.path}/${walFiles(tmp.path)[0]}`;
  const before = await Deno.readFile(path);
  const start = dataEnd(before);

  // What a crash during save(hs(2, 4), entries 3..4) could leave: entry 3 whole, entry 4 half.
  const scratch = tempDir({ tmpfs: true });
  const w2 = await createWal(scratch.path, META, OPTS);
  await w2.save(hs(1, 2), entries(1, 2), true);
  await w2.save(hs(2, 4), entries(3, 4, 2), true);
  await w2.close();
  const written = await Deno.readFile(`${scratch.path}/${walFiles(scratch.path)[0]}`);
  await scratch[Symbol.asyncDispose]();
  const half = start + entryRecordSize(entry(3, 2)) + 30; // inside entry 4's value
  const torn = before.slice();
  torn.set(written.subarray(start, half), start);
  await Deno.writeFile(path, torn);

  const o = await openWal(tmp.path, ZERO, OPTS);
  assert.deepEqual(o.entries, [...entries(1, 2), entry(3, 2)]);
  assert.deepEqual(o.hardState, hs(1, 2));
  const tornAt = start + entryRecordSize(entry(3, 2));
  assert.equal(o.repaired?.offset, tornAt);
  assert.equal(o.repaired?.droppedBytes, 30);
  const repaired = await Deno.readFile(path);
  assert.equal(repaired.length, SEGMENT, "the preallocated space is kept");
  assert.ok(isZero(repaired.subarray(tornAt)));
  await o.wal.save(hs(2, 4), [entry(4, 2, "retry")], true);
  await o.wal.close();
  const again = await openWal(tmp.path, ZERO, OPTS);
  assert.deepEqual(again.entries, [...entries(1, 2), entry(3, 2), entry(4, 2, "retry")]);
  assert.deepEqual(again.hardState, hs(2, 4));
  assert.equal(again.repaired, undefined);
  await again.wal.close();
});

Deno.test("wal prealloc: rollover renames the prepared file into place", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META, OPTS);
  const first = `${tmp.path}/${walFiles(tmp.path)[0]}`;
  const prepared = `${tmp.path}/${PREPARED_NAME}`;
  // Nothing is prepared until half of the segment is used.
  assert.equal(await wal.nextSegmentPrepared(), false);
  let next = await saveUntil(wal, 1, () => dataEnd(Deno.readFileSync(first)) * 2 >= SEGMENT);
  assert.equal(await wal.nextSegmentPrepared(), true);
  const ready = await Deno.stat(prepared);
  assert.equal(ready.size, SEGMENT);
  assert.ok(isZero(await Deno.readFile(prepared)));

  next = await saveUntil(wal, next, () => wal.segments.length > 1);
  const second = `${tmp.path}/${wal.segments[1]}`;
  const st = await Deno.stat(second);
  assert.equal(st.ino, ready.ino, "the new segment is the prepared file");
  assert.equal(st.size, SEGMENT);
  const buf = await Deno.readFile(second);
  assert.ok(isZero(buf.subarray(dataEnd(buf))));
  await saveUntil(wal, next, () => wal.segments.length > 3);
  await wal.close();
  // A save that crosses the end of the preallocated space grows the file by that much.
  for (const n of walFiles(tmp.path).slice(1)) {
    const { size } = await Deno.stat(`${tmp.path}/${n}`);
    assert.ok(size >= SEGMENT && size < SEGMENT + 300, `${n}: ${size}`);
  }
  const o = await openWal(tmp.path, ZERO, OPTS);
  assert.equal(o.entries.length, o.entries.at(-1)!.index);
  assert.equal(o.repaired, undefined);
  await o.wal.close();
});

Deno.test("wal prealloc: a segment that grows moves to a prepared file once one is ready", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META, OPTS);
  await wal.save(hs(1, 5), entries(1, 5), true);
  await wal.close();
  // A log written before preallocation: the file ends where its records end.
  const path = `${tmp.path}/${walFiles(tmp.path)[0]}`;
  const buf = await Deno.readFile(path);
  await Deno.writeFile(path, buf.subarray(0, dataEnd(buf)));

  const o = await openWal(tmp.path, ZERO, OPTS);
  assert.equal(o.repaired, undefined);
  assert.equal(await o.wal.nextSegmentPrepared(), true);
  await o.wal.save(hs(1, 6), [entry(6)], true);
  assert.equal(o.wal.segments.length, 2);
  await o.wal.save(hs(1, 7), [entry(7)], true);
  await o.wal.close();
  const [, second] = walFiles(tmp.path);
  assert.match(second, /^0000000000000001-0000000000000007\.wal$/);
  assert.equal((await Deno.stat(`${tmp.path}/${second}`)).size, SEGMENT);
  const again = await openWal(tmp.path, ZERO, OPTS);
  assert.deepEqual(again.entries, entries(1, 7));
  assert.deepEqual(again.hardState, hs(1, 7));
  await again.wal.close();
});

Deno.test("wal prealloc: files left by a crash while preparing are removed, not used", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META, OPTS);
  await wal.save(hs(1, 1), [entry(1)], true);
  await wal.close();
  // A half-written prepared file (here with non-zero bytes, so any reuse would show) and a
  // segment whose header was written but which was never renamed.
  await Deno.writeFile(`${tmp.path}/${PREPARED_NAME}`, new Uint8Array(3000).fill(0xff));
  await Deno.writeFile(`${tmp.path}/0000000000000001-0000000000000002.wal.tmp`, new Uint8Array(7));
  const o = await openWal(tmp.path, ZERO, OPTS);
  assert.deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), walFiles(tmp.path));
  await saveUntil(o.wal, 2, () => o.wal.segments.length > 1);
  await o.wal.close();
  const second = await Deno.readFile(`${tmp.path}/${walFiles(tmp.path)[1]}`);
  assert.equal(second.length, SEGMENT);
  assert.ok(isZero(second.subarray(dataEnd(second))));
  const again = await openWal(tmp.path, ZERO, OPTS);
  assert.equal(again.entries.length, again.entries.at(-1)!.index);
  await again.wal.close();
});

Deno.test("wal prealloc: close stops a preparation and removes its file", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META); // 64 MB segments
  const big = new TextEncoder().encode("x".repeat(1000));
  await wal.save(
    hs(1, 0),
    Array.from({ length: 600 }, (_, i) => ({ index: i + 1, term: 1, type: 0, data: big })),
    true,
  );
  await wal.close();
  // Only the log's own segments are left: the half-prepared file was abandoned and removed.
  assert.deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), walFiles(tmp.path));
});

Deno.test("wal prealloc: when preparing fails, segments grow and preparing is retried", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META, OPTS);
  // A directory where the prepared file should go makes every preparation fail.
  await Deno.mkdir(`${tmp.path}/${PREPARED_NAME}`);
  let next = await saveUntil(wal, 1, () => wal.segments.length > 2);
  const grown = walFiles(tmp.path).slice(1, 2).map((n) => Deno.statSync(`${tmp.path}/${n}`));
  assert.ok(grown[0].size >= SEGMENT);
  await Deno.remove(`${tmp.path}/${PREPARED_NAME}`);
  next = await saveUntil(wal, next, () => wal.segments.length > 4);
  await wal.close();
  const sizes = walFiles(tmp.path).map((n) => Deno.statSync(`${tmp.path}/${n}`).size);
  assert.equal(sizes.at(-1), SEGMENT, `${sizes}`);
  const o = await openWal(tmp.path, ZERO, OPTS);
  assert.deepEqual(o.entries.map((e) => e.index), entries(1, next - 1).map((e) => e.index));
  await o.wal.close();
});
