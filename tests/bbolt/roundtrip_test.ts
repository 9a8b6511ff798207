// Writer and reader against each other: what is written reads back the same, through every
// reader entry (bytes and file), and the writer refuses bad input without spoiling its output.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  buildDb,
  DbWriter,
  fileSink,
  MemorySink,
  openDb,
  openDbFile,
  writeDb,
} from "../../src/bbolt/mod.ts";
import { bigDb, dbArb, enc, expectedDump, hex, readerDump, withTempDb } from "../helpers/bbolt.ts";

const dec = new TextDecoder();

Deno.test("random databases read back as written, at several page sizes and fill percents", async () => {
  await fc.assert(
    fc.asyncProperty(
      dbArb,
      fc.constantFrom(1024, 4096, 16384),
      fc.constantFrom(0.5, 0.9, 1),
      fc.boolean(),
      async (buckets, pageSize, fillPercent, inline) => {
        const bytes = await buildDb(buckets, { pageSize, fillPercent, inline });
        const db = openDb(bytes);
        assert.equal(db.pageSize, pageSize);
        assert.equal(bytes.length, db.meta.pgid * pageSize);
        assert.deepEqual(readerDump(db), expectedDump(buckets));
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("get, seek and count agree with the data in every bucket", async () => {
  await fc.assert(
    fc.asyncProperty(
      dbArb,
      fc.uint8Array({ minLength: 1, maxLength: 4 }),
      async (buckets, probe) => {
        const db = openDb(await buildDb(buckets, { pageSize: 1024 }));
        const check = (path: Uint8Array[], b: (typeof buckets)[number]) => {
          const got = db.bucket(...path)!;
          const want = [...(b.entries ?? [])].map(([k, v]) => [k as Uint8Array, v] as const)
            .sort(([x], [y]) => (hex(x) < hex(y) ? -1 : 1));
          assert.equal(got.count(), want.length);
          assert.equal(got.sequence, b.sequence ?? 0n);
          for (const [k, v] of want) assert.deepEqual(got.get(k), v);
          // A nested bucket's name is not a key with a value.
          for (const c of b.buckets ?? []) assert.equal(got.get(c.name), undefined);
          const fromProbe = want.filter(([k]) => hex(k) >= hex(probe));
          assert.deepEqual(
            [...got.entries(probe)].map(([k]) => hex(k)),
            fromProbe.map(([k]) => hex(k)),
          );
          if (!want.some(([k]) => hex(k) === hex(probe))) assert.equal(got.get(probe), undefined);
          for (const c of b.buckets ?? []) check([...path, c.name as Uint8Array], c);
        };
        for (const b of buckets) check([b.name as Uint8Array], b);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("a file read a page at a time reads as the same bytes in memory", async () => {
  await withTempDb(async (path) => {
    const buckets = bigDb();
    const file = Deno.openSync(path, { write: true, truncate: true });
    const { size } = await writeDb(fileSink(file), buckets);
    file.close();
    assert.equal(Deno.statSync(path).size, size);
    const fromFile = openDbFile(path);
    const inMemory = openDb(Deno.readFileSync(path));
    assert.deepEqual(readerDump(fromFile), readerDump(inMemory));
    assert.deepEqual(readerDump(fromFile), expectedDump(buckets));
    assert.equal(dec.decode(fromFile.bucket("big")!.get("key/00012345")!), `value ${12345 * 7}`);
    assert.equal(fromFile.bucket("big")!.count(), 30_001);
    fromFile.close();
  });
});

Deno.test("big trees have branch levels, overflow pages and inline buckets", async () => {
  const db = openDb(await buildDb(bigDb()));
  const header = (id: number) => new DataView(db.source.read(id * db.pageSize, 16).slice().buffer);
  // 30k keys of ~30 bytes at ~130 a leaf need a root branch over branches over leaves.
  let levels = 1;
  for (let id = rootOf(db, "big"); !(header(id).getUint16(8, true) & 0x02); levels++) {
    const page = db.source.read(id * db.pageSize, 32);
    id = Number(new DataView(page.slice().buffer).getBigUint64(24, true));
  }
  assert.equal(levels, 3);
  let longest = 0;
  for (let id = 3; id < db.meta.pgid; id += header(id).getUint32(12, true) + 1) {
    longest = Math.max(longest, header(id).getUint32(12, true));
  }
  assert.equal(longest, Math.ceil((50_000 + 16 + 16 + 15) / db.pageSize) - 1);
  const big = db.bucket("big")!;
  assert.equal(big.get("key/zz-overflow")!.length, 50_000);
  assert.deepEqual(db.bucket("nested", "small")!.get("x"), enc.encode("y"));
  assert.equal(db.bucket("nested", "small")!.sequence, 7n);
  assert.equal(db.bucket("nested", "wide", "empty")!.count(), 0);
});

/** The root page id of a top-level bucket, from its header in the root bucket. */
function rootOf(db: ReturnType<typeof openDb>, name: string): number {
  const c = db.root.cursor();
  assert.ok(c.seek(enc.encode(name)) && c.isBucket);
  return Number(new DataView(c.value.buffer, c.value.byteOffset).getBigUint64(0, true));
}

Deno.test("small buckets are stored inline, big ones and ones with nested buckets are not", async () => {
  const db = openDb(await buildDb(bigDb()));
  const headerRoot = (value: Uint8Array) =>
    new DataView(value.buffer, value.byteOffset).getBigUint64(0, true);
  const nested = db.root.cursor();
  assert.ok(nested.seek(enc.encode("nested")));
  assert.notEqual(headerRoot(nested.value), 0n, "a bucket holding buckets has a root page");
  const small = db.bucket("nested")!.cursor();
  assert.ok(small.seek(enc.encode("small")) && small.isBucket);
  assert.equal(headerRoot(small.value), 0n, "a small leaf-only bucket is inline");
  const noInline = openDb(await buildDb(bigDb(), { inline: false })).bucket("nested")!.cursor();
  assert.ok(noInline.seek(enc.encode("small")));
  assert.notEqual(headerRoot(noInline.value), 0n);
});

Deno.test("the writer refuses keys out of order, duplicates and misplaced calls, and goes on", async () => {
  const sink = new MemorySink();
  const w = new DbWriter(sink);
  await assert.rejects(w.put("k", enc.encode("v")), /outside a bucket/);
  assert.throws(() => w.beginBucket(""), /bucket name required/);
  w.beginBucket("b");
  await w.put("m", enc.encode("1"));
  await assert.rejects(w.put("a", enc.encode("2")), /ascending order/);
  await assert.rejects(w.put("m", enc.encode("3")), /ascending order/);
  await assert.rejects(w.put("", enc.encode("4")), /key required/);
  await assert.rejects(w.put(new Uint8Array(32769).fill(1), enc.encode("5")), /key too large/);
  assert.throws(() => w.beginBucket("c"), /ascending order/);
  await assert.rejects(w.finish(), /still open/);
  await w.put("z", enc.encode("6"));
  await w.endBucket();
  await assert.rejects(w.endBucket(), /no bucket open/);
  assert.throws(() => w.beginBucket("a"), /ascending order/);
  await w.finish();
  await assert.rejects(w.put("x", enc.encode("7")), /finished/);
  const db = openDb(sink.bytes());
  assert.deepEqual([...db.bucket("b")!.entries()].map(([k, v]) => [dec.decode(k), dec.decode(v)]), [
    ["m", "1"],
    ["z", "6"],
  ]);
});

Deno.test("the writer copies keys and values, so callers may reuse their buffers", async () => {
  const sink = new MemorySink();
  const w = new DbWriter(sink);
  w.beginBucket("b");
  const buf = new Uint8Array([1, 1]);
  await w.put(buf, buf);
  buf.set([2, 2]);
  await w.put(buf, buf);
  await w.endBucket();
  await w.finish();
  assert.deepEqual(
    [...openDb(sink.bytes()).bucket("b")!.entries()].map(([k, v]) => [hex(k), hex(v)]),
    [
      ["0101", "0101"],
      ["0202", "0202"],
    ],
  );
});

Deno.test("writer options out of range are refused", () => {
  const sink = new MemorySink();
  assert.throws(() => new DbWriter(sink, { pageSize: 3000 }), /page size 3000/);
  assert.throws(() => new DbWriter(sink, { fillPercent: 0.05 }), /fill percent/);
  assert.throws(() => new DbWriter(sink, { txid: 0n }), /txid/);
});
