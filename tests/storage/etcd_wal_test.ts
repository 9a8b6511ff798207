// Reading etcd 3.4's WAL and snap files. The segments here are framed as etcd's encoder frames
// them (tests/helpers/etcd_wal.ts); the takeover integration test reads ones a real etcd wrote.
import assert from "node:assert/strict";
import { crc32c } from "../../src/checksum/mod.ts";
import { messages } from "../../src/pb/mod.ts";
import { encodeSnapshot, type Entry, type Snapshot } from "../../src/raft/mod.ts";
import { etcdWalSnapshots, loadNewestEtcdSnap, readEtcdWal } from "../../src/storage/mod.ts";
import { entry } from "../helpers/storage.ts";
import { tempDir } from "../helpers/tmp.ts";
import {
  etcdSegment,
  type EtcdWalRecord,
  segmentName,
  walEntry,
  walMetadata,
  walSnapshot,
  walState,
} from "../helpers/etcd_wal.ts";

const META = walMetadata(0xc4d2b988cdb4bc6en, 7n);
const ent = walEntry;
const state = (term: number, commit: number) => walState(term, commit);
const snapRec = walSnapshot;
const segment = (records: EtcdWalRecord[], crc: number) => etcdSegment(META, records, crc);
const name = segmentName;

/** Two segments: entries 1-5 and a snapshot at 3, then (after a cut) 6-7 and 5-6 again. */
async function writeWal(dir: string) {
  const first = segment([
    snapRec(0, 0),
    ...[1, 2, 3].map((i) => ent(entry(i, 1))),
    state(1, 3),
    snapRec(3, 1),
    ...[4, 5].map((i) => ent(entry(i, 1))),
    state(1, 5),
  ], 0);
  const second = segment([
    state(1, 5),
    ...[6, 7].map((i) => ent(entry(i, 1))),
    // A new leader overwrote the uncommitted tail from 6 on.
    ...[6].map((i) => ent(entry(i, 2, `rewritten-${i}`))),
    state(2, 6),
  ], first.crc);
  await Deno.writeFile(`${dir}/${name(0, 0)}`, first.bytes);
  await Deno.writeFile(`${dir}/${name(1, 6)}`, second.bytes);
  return { first, second };
}

const dataOf = (es: Entry[]) =>
  es.map((e) => `${e.index}@${e.term}:${new TextDecoder().decode(e.data)}`);

Deno.test("etcd WAL: entries after the snapshot, the last hard state, the crc chain across segments", async () => {
  await using dir = tempDir({ tmpfs: true });
  await writeWal(dir.path);
  assert.deepEqual(etcdWalSnapshots(dir.path), [{ index: 0, term: 0 }, { index: 3, term: 1 }]);
  const wal = readEtcdWal(dir.path, { index: 3, term: 1 });
  assert.deepEqual(
    messages["etcdserverpb.Metadata"].decode(wal.metadata).NodeID,
    0xc4d2b988cdb4bc6en,
  );
  assert.deepEqual(wal.hardState, { term: 2, vote: 1n, commit: 6 });
  assert.deepEqual(dataOf(wal.entries), ["4@1:value-4", "5@1:value-5", "6@2:rewritten-6"]);
  assert.equal(wal.tornTail, undefined);
  assert.deepEqual(dataOf(readEtcdWal(dir.path, { index: 0, term: 0 }).entries).length, 6);
  assert.throws(() => readEtcdWal(dir.path, { index: 3, term: 2 }), /snapshot mismatch/);
  assert.throws(() => readEtcdWal(dir.path, { index: 2, term: 1 }), /snapshot not found/);
});

Deno.test("etcd WAL: snapshots past the committed hard state are not offered", async () => {
  await using dir = tempDir({ tmpfs: true });
  const seg = segment([snapRec(0, 0), ent(entry(1)), state(1, 0), snapRec(1, 1)], 0);
  await Deno.writeFile(`${dir.path}/${name(0, 0)}`, seg.bytes);
  assert.deepEqual(etcdWalSnapshots(dir.path), [{ index: 0, term: 0 }]);
});

Deno.test("etcd WAL: a torn end of the last segment ends the log; damage before it is refused", async () => {
  await using dir = tempDir({ tmpfs: true });
  const { first, second } = await writeWal(dir.path);
  // A write cut off: the next frame's length reached the disk, its record did not.
  const torn = second.bytes.slice();
  const end = (torn.findLastIndex((b) => b !== 0) + 8) & ~7;
  new DataView(torn.buffer).setUint32(end, 40, true);
  await Deno.writeFile(`${dir.path}/${name(1, 6)}`, torn);
  const wal = readEtcdWal(dir.path, { index: 3, term: 1 });
  assert.match(wal.tornTail ?? "", /torn write|unexpected EOF/);
  assert.deepEqual(dataOf(wal.entries), ["4@1:value-4", "5@1:value-5", "6@2:rewritten-6"]);
  // A flipped byte in the first segment's data, with valid records after it.
  const damaged = first.bytes.slice();
  const at = new TextDecoder("latin1").decode(damaged).indexOf("value-2");
  damaged[at] ^= 0x01;
  await Deno.writeFile(`${dir.path}/${name(0, 0)}`, damaged);
  assert.throws(() => readEtcdWal(dir.path, { index: 0, term: 0 }), /crc mismatch/);
  assert.throws(() => etcdWalSnapshots(dir.path), /crc mismatch/);
});

Deno.test("etcd snap files: the newest the WAL knows, damaged ones skipped and left alone", async () => {
  await using dir = tempDir({ tmpfs: true });
  const snap = (index: number, term: number): Snapshot => ({
    metadata: { index, term, confState: { voters: [1n], learners: [] } },
    data: new TextEncoder().encode(`{"Root":{}} at ${index}`),
  });
  const file = (s: Snapshot) => {
    const data = encodeSnapshot(s);
    return messages["snappb.snapshot"].encode({ crc: crc32c(data), data });
  };
  const path = (s: Snapshot) =>
    `${dir.path}/${s.metadata.term.toString(16).padStart(16, "0")}-${
      s.metadata.index.toString(16).padStart(16, "0")
    }.snap`;
  for (const s of [snap(100, 2), snap(200, 2), snap(300, 3)]) {
    await Deno.writeFile(path(s), file(s));
  }
  const damaged = file(snap(300, 3));
  damaged[damaged.length - 2] ^= 0xff;
  await Deno.writeFile(path(snap(300, 3)), damaged);
  const warnings: string[] = [];
  const known = [{ index: 100, term: 2 }, { index: 200, term: 2 }, { index: 300, term: 3 }];
  const got = loadNewestEtcdSnap(dir.path, known, (w) => warnings.push(w));
  assert.equal(got?.metadata.index, 200);
  assert.match(
    warnings.join("\n"),
    /0000000000000003-000000000000012c\.snap \(snap: crc mismatch\)/,
  );
  assert.deepEqual(await Deno.readFile(path(snap(300, 3))), damaged, "left as it was");
  // A snap file the WAL has no record of (written just before a crash) is not used.
  assert.equal(
    loadNewestEtcdSnap(dir.path, [{ index: 100, term: 2 }], () => {})?.metadata.index,
    100,
  );
  assert.equal(loadNewestEtcdSnap(dir.path, [], () => {}), undefined);
});
