import assert from "node:assert/strict";
import { createWal, openWal, WalError, walExists } from "../../src/storage/mod.ts";
import { putEntryRecord } from "../../src/storage/record.ts";
import { countCalls, dataEnd, entries, entry, hs, META, walFiles } from "../helpers/storage.ts";
import { tempDir } from "../helpers/tmp.ts";

const ZERO = { index: 0, term: 0 };

Deno.test("wal: entries, hard state and metadata survive reopen", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const dir = `${tmp.path}/member/wal`;
  assert.equal(walExists(dir), false);
  const wal = await createWal(dir, META);
  assert.equal(walExists(dir), true);
  assert.deepEqual(walFiles(dir), ["0000000000000000-0000000000000000.wal"]);
  await wal.save(hs(1, 0, 0x8e9e05c52164694dn), entries(1, 3), true);
  await wal.save(hs(2, 3, 0xffffffffffffffffn), [entry(4, 2, "")], true);
  await wal.close();

  const o = await openWal(dir, ZERO);
  assert.deepEqual(o.metadata, META);
  assert.deepEqual(o.hardState, hs(2, 3, 0xffffffffffffffffn));
  assert.deepEqual(o.entries, [...entries(1, 3), entry(4, 2, "")]);
  assert.equal(o.repaired, undefined);
  // Appends after reopen go on in the same log.
  await o.wal.save(
    undefined,
    [{ index: 5, term: 2, type: 1, data: new Uint8Array([0, 255]) }],
    true,
  );
  await o.wal.close();
  const o2 = await openWal(dir, ZERO);
  assert.equal(o2.entries.length, 5);
  assert.deepEqual(o2.entries[4], { index: 5, term: 2, type: 1, data: new Uint8Array([0, 255]) });
  assert.deepEqual(o2.hardState, hs(2, 3, 0xffffffffffffffffn));
  await o2.wal.close();
});

Deno.test("wal: an empty log opens with a zero hard state", async () => {
  await using tmp = tempDir({ tmpfs: true });
  await (await createWal(tmp.path, META)).close();
  const o = await openWal(tmp.path, ZERO);
  assert.deepEqual(o.hardState, hs(0, 0));
  assert.deepEqual(o.entries, []);
  await o.wal.close();
});

Deno.test("wal: createWal refuses a directory that already holds a log", async () => {
  await using tmp = tempDir({ tmpfs: true });
  await (await createWal(tmp.path, META)).close();
  await assert.rejects(createWal(tmp.path, META), WalError);
});

Deno.test("wal: a batch is one write and one fsync; unsynced saves do not fsync", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  let writes = 0;
  const syncs = await countCalls("syncData", async () => {
    writes = await countCalls("writeSync", () => wal.save(hs(1, 0), entries(1, 1000), true));
  });
  assert.equal(syncs, 1);
  assert.equal(writes, 1);
  assert.equal(
    await countCalls("syncData", () => wal.save(hs(1, 10), entries(1001, 1010), false)),
    0,
  );
  // Nothing new to write, but earlier unsynced data must reach the disk.
  assert.equal(await countCalls("syncData", () => wal.save(undefined, [], true)), 1);
  assert.equal(await countCalls("syncData", () => wal.save(undefined, [], true)), 0);
  await wal.close();
  const o = await openWal(tmp.path, ZERO);
  assert.equal(o.entries.length, 1010);
  assert.deepEqual(o.hardState, hs(1, 10));
  await o.wal.close();
});

Deno.test("wal: concurrent saves are written in call order", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await Promise.all(
    Array.from({ length: 50 }, (_, i) => wal.save(hs(1, i), [entry(i + 1)], i % 7 === 0)),
  );
  await wal.close();
  const o = await openWal(tmp.path, ZERO);
  assert.deepEqual(o.entries, entries(1, 50));
  assert.deepEqual(o.hardState, hs(1, 49));
  await o.wal.close();
});

Deno.test("wal: an entry for an existing index truncates the tail on replay", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await wal.save(hs(1, 3), entries(1, 10), true);
  await wal.save(hs(2, 3), [entry(5, 2, "new-5"), entry(6, 2, "new-6")], true);
  await wal.close();
  let o = await openWal(tmp.path, ZERO);
  assert.deepEqual(o.entries, [...entries(1, 4), entry(5, 2, "new-5"), entry(6, 2, "new-6")]);
  // Overwriting the very first entry keeps only the new one.
  await o.wal.save(undefined, [entry(1, 3, "only")], true);
  await o.wal.close();
  o = await openWal(tmp.path, ZERO);
  assert.deepEqual(o.entries, [entry(1, 3, "only")]);
  await o.wal.close();
});

Deno.test("wal: non-consecutive entries are refused and leave the log usable", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await assert.rejects(wal.save(undefined, [entry(1), entry(3)], true), /non-consecutive/);
  await wal.save(undefined, [entry(1)], true);
  await wal.close();
});

Deno.test("wal: a gap is refused by save and, if on disk, by openWal", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await wal.save(undefined, entries(1, 3), true);
  await assert.rejects(wal.save(undefined, entries(5, 6), true), /would leave a gap after 3/);
  await wal.close();
  // Forge the gap on disk, as damage or a bug elsewhere could: entry 5 right after entry 3.
  const path = `${tmp.path}/${walFiles(tmp.path)[0]}`;
  const buf = await Deno.readFile(path);
  putEntryRecord(buf, dataEnd(buf), entry(5));
  await Deno.writeFile(path, buf);
  await assert.rejects(openWal(tmp.path, ZERO), /missing entries before index 5/);
});

Deno.test("wal: segments roll over at the size limit and replay in order", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META, { segmentSize: 512 });
  for (let i = 1; i <= 40; i++) await wal.save(hs(1, i - 1, 7n), [entry(i)], true);
  const names = walFiles(tmp.path);
  assert.ok(names.length > 5, `${names}`);
  assert.deepEqual(wal.segments, names);
  // Each name is <seq>-<first index the segment may hold>.
  names.forEach((n, i) => assert.match(n, new RegExp(`^${i.toString(16).padStart(16, "0")}-`)));
  const second = parseInt(names[1].slice(17, 33), 16);
  assert.ok(second > 1 && second <= 40);
  await wal.close();
  const o = await openWal(tmp.path, ZERO, { segmentSize: 512 });
  assert.deepEqual(o.entries, entries(1, 40));
  assert.deepEqual(o.hardState, hs(1, 39, 7n));
  await o.wal.close();
});

Deno.test("wal: snapshot marker lets openWal start after a snapshot", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await wal.save(hs(2, 5), entries(1, 8, 2), true);
  await wal.saveSnapshot({ index: 5, term: 2 });
  await wal.save(hs(2, 8), [], true);
  await wal.close();

  const o = await openWal(tmp.path, { index: 5, term: 2 });
  assert.deepEqual(o.entries, entries(6, 8, 2));
  assert.deepEqual(o.hardState, hs(2, 8));
  await o.wal.close();
  await assert.rejects(openWal(tmp.path, { index: 6, term: 2 }), /wal: snapshot not found/);
  await assert.rejects(openWal(tmp.path, { index: 5, term: 1 }), /wal: snapshot mismatch/);
});

Deno.test("wal: a snapshot from the leader moves the log past its own entries", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await wal.save(hs(1, 3), entries(1, 5), true);
  await wal.saveSnapshot({ index: 100, term: 4 });
  await wal.save(hs(4, 100), [], true);
  await wal.close();
  let o = await openWal(tmp.path, { index: 100, term: 4 });
  assert.deepEqual(o.entries, []);
  await o.wal.save(hs(4, 101), entries(101, 102, 4), true);
  await o.wal.close();
  o = await openWal(tmp.path, { index: 100, term: 4 });
  assert.deepEqual(o.entries, entries(101, 102, 4));
  assert.deepEqual(o.hardState, hs(4, 101));
  await o.wal.close();
});

Deno.test("wal: releaseTo releases old segments and purge deletes them down to max", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META, { segmentSize: 400 });
  for (let i = 1; i <= 60; i++) await wal.save(hs(3, i, 9n), [entry(i, 3)], true);
  await wal.saveSnapshot({ index: 30, term: 3 });
  const before = walFiles(tmp.path);
  await wal.releaseTo(30);
  // Released files stay until a purge: etcd keeps --max-wals of them.
  assert.deepEqual(walFiles(tmp.path), before);
  const live = wal.segments;
  assert.ok(live.length < before.length);
  const firstIndex = parseInt(live[0].slice(17, 33), 16);
  assert.ok(firstIndex <= 30, `kept ${live[0]}`);
  // The first dropped-after segment would have started above 30.
  const nextKept = live[1] ? parseInt(live[1].slice(17, 33), 16) : Infinity;
  assert.ok(nextKept > 30);
  assert.deepEqual(await wal.purge(0), { purged: [] }, "0 keeps every file");
  assert.deepEqual(walFiles(tmp.path), before);
  const released = before.length - live.length;
  const out = await wal.purge(live.length + 1);
  assert.deepEqual(out.purged, before.slice(0, released - 1).map((n) => `${tmp.path}/${n}`));
  assert.equal(out.inUse, undefined);
  assert.deepEqual(walFiles(tmp.path), before.slice(released - 1));
  // Below the live segments the purge stops at the oldest live one, as etcd's lock does.
  const stopped = await wal.purge(1);
  assert.equal(stopped.inUse, `${tmp.path}/${live[0]}`);
  assert.deepEqual(walFiles(tmp.path), live);
  await wal.releaseTo(0); // nothing below the oldest segment: no-op
  assert.deepEqual(wal.segments, live);
  for (let i = 61; i <= 70; i++) await wal.save(hs(3, i, 9n), [entry(i, 3)], true);
  await wal.close();

  // The oldest remaining segment carries metadata and hard state of its own.
  const o = await openWal(tmp.path, { index: 30, term: 3 });
  assert.deepEqual(o.metadata, META);
  assert.deepEqual(o.entries, entries(31, 70, 3));
  assert.deepEqual(o.hardState, hs(3, 70, 9n));
  await o.wal.close();
  await assert.rejects(openWal(tmp.path, ZERO), /no segment .* can hold index 0/);
});

Deno.test("wal: released segments left on disk do not disturb a reopen", async () => {
  await using tmp = await tempDir();
  const wal = await createWal(tmp.path, META, { segmentSize: 400 });
  for (let i = 1; i <= 40; i++) await wal.save(hs(2, i), [entry(i, 2)], true);
  await wal.saveSnapshot({ index: 25, term: 2 });
  await wal.releaseTo(25);
  await wal.close();
  const o = await openWal(tmp.path, { index: 25, term: 2 });
  assert.deepEqual(o.entries, entries(26, 40, 2));
  // The reopened log holds only the segments from the snapshot on: the older ones may go.
  assert.ok(o.wal.segments.length < walFiles(tmp.path).length);
  const out = await o.wal.purge(o.wal.segments.length);
  assert.deepEqual(walFiles(tmp.path), o.wal.segments);
  assert.equal(out.inUse, undefined);
  await o.wal.close();
});

Deno.test("wal: --unsafe-no-fsync writes the log without a single fsync", async () => {
  await using tmp = await tempDir();
  const wal = await createWal(tmp.path, META, { segmentSize: 4096, unsafeNoFsync: true });
  const syncs = await countCalls("syncData", async () => {
    for (let i = 1; i <= 50; i++) await wal.save(hs(1, i), [entry(i, 1, "x".repeat(200))], true);
    await wal.saveSnapshot({ index: 50, term: 1 });
    await wal.nextSegmentPrepared();
    await wal.close();
  });
  assert.equal(syncs, 0);
  assert.ok(walFiles(tmp.path).length > 1, "the test crossed a segment cut");
  const o = await openWal(tmp.path, ZERO);
  assert.equal(o.entries.length, 50);
  // Turned off again (the setter), every save is synced again.
  o.wal.unsafeNoFsync = false;
  assert.equal(await countCalls("syncData", () => o.wal.save(hs(1, 51), [entry(51, 1)], true)), 1);
  o.wal.unsafeNoFsync = true;
  assert.equal(await countCalls("syncData", () => o.wal.save(hs(1, 52), [entry(52, 1)], true)), 0);
  await o.wal.close();
});

Deno.test("wal: a missing segment in the middle refuses to open", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META, { segmentSize: 256 });
  for (let i = 1; i <= 20; i++) await wal.save(undefined, [entry(i)], true);
  await wal.close();
  const names = walFiles(tmp.path);
  await Deno.remove(`${tmp.path}/${names[2]}`);
  await assert.rejects(openWal(tmp.path, ZERO), /sequence numbers do not increase continuously/);
});

Deno.test("wal: operations after close are refused", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await wal.close();
  await assert.rejects(wal.save(undefined, [entry(1)], true), /wal: closed/);
});

Deno.test("wal: after a failed fsync the log refuses further writes", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  const proto = Deno.FsFile.prototype;
  const original = proto.syncData;
  proto.syncData = () => Promise.reject(new Error("EIO"));
  try {
    await assert.rejects(wal.save(hs(1, 0), [entry(1)], true), /EIO/);
  } finally {
    proto.syncData = original;
  }
  await assert.rejects(wal.save(hs(1, 0), [entry(2)], true), /unusable after earlier error/);
  await wal.close();
});
