// Reading etcd 3.4's WAL and snap files. The segments here are framed as etcd's encoder frames
// them (length field with padding bits, walpb.Record, CRC-32C chained across records and
// segments); the takeover test reads ones a real etcd wrote.
import assert from "node:assert/strict";
import { crc32c } from "../../src/checksum/mod.ts";
import { messages } from "../../src/pb/mod.ts";
import {
  encodeEntry,
  encodeHardState,
  encodeSnapshot,
  type Entry,
  type Snapshot,
} from "../../src/raft/mod.ts";
import { etcdWalSnapshots, loadNewestEtcdSnap, readEtcdWal } from "../../src/storage/mod.ts";
import { entry } from "../helpers/storage.ts";
import { tempDir } from "../helpers/tmp.ts";

const METADATA = 1, ENTRY = 2, STATE = 3, CRC = 4, SNAPSHOT = 5;
const META = messages["etcdserverpb.Metadata"].encode({
  NodeID: 0xc4d2b988cdb4bc6en,
  ClusterID: 7n,
});

type Rec = { type: number; data: Uint8Array };
const ent = (e: Entry): Rec => ({ type: ENTRY, data: encodeEntry(e) });
const state = (term: number, commit: number): Rec => ({
  type: STATE,
  data: encodeHardState({ term, vote: 1n, commit }),
});
const snapRec = (index: number, term: number): Rec => ({
  type: SNAPSHOT,
  data: messages["walpb.Snapshot"].encode({ index, term }),
});

/** One segment as etcd writes it, starting its chain at `crc`; returns the chain's end. */
function segment(records: Rec[], crc: number): { bytes: Uint8Array; crc: number } {
  const parts: Uint8Array[] = [];
  for (
    const r of [{ type: CRC, data: new Uint8Array() }, { type: METADATA, data: META }, ...records]
  ) {
    let recCrc = crc;
    if (r.type !== CRC) recCrc = crc = crc32c(r.data, crc);
    const body = messages["walpb.Record"].encode({ type: r.type, crc: recCrc, data: r.data });
    const pad = (8 - (body.length % 8)) % 8;
    const head = new Uint8Array(8);
    const v = new DataView(head.buffer);
    v.setUint32(0, body.length, true);
    if (pad) v.setUint8(7, 0x80 | pad);
    parts.push(head, body, new Uint8Array(pad));
  }
  parts.push(new Uint8Array(4096)); // preallocated space
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return { bytes, crc };
}

const name = (seq: number, index: number) =>
  `${seq.toString(16).padStart(16, "0")}-${index.toString(16).padStart(16, "0")}.wal`;

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
