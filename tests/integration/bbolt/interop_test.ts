// Interop with real bbolt (Debian's bbolt 1.3 sources, built offline by scripts/build-go-tools):
// files we write pass bbolt's check and read back through bbolt's cursors and Get, and bbolt
// can go on writing them; files bbolt writes read back identically through our reader.
import assert from "node:assert/strict";
import fc from "fast-check";
import { buildDb, DbWriter, fileSink, openDb, openDbFile } from "../../../src/bbolt/mod.ts";
import { bbolt, bboltFill, bboltOk } from "../../helpers/go_tools.ts";
import {
  bigDb,
  dbArb,
  enc,
  expectedDump,
  fillScript,
  readerDump,
  withTempDb,
} from "../../helpers/bbolt.ts";

const dec = new TextDecoder();

Deno.test("files we write pass bbolt's check and show our data to bbolt's cursors and Get", async () => {
  await withTempDb(async (path) => {
    await fc.assert(
      fc.asyncProperty(
        dbArb,
        fc.constantFrom(1024, 4096, 8192),
        fc.constantFrom(0.5, 1),
        async (buckets, pageSize, fillPercent) => {
          Deno.writeFileSync(path, await buildDb(buckets, { pageSize, fillPercent }));
          assert.deepEqual(await bboltOk("check", path), ["OK"]);
          assert.deepEqual(await bboltOk("dump", path), expectedDump(buckets));
        },
      ),
      { numRuns: 25 },
    );
  });
});

Deno.test("a big file we stream to disk is what bbolt's buckets, keys and get show", async () => {
  await withTempDb(async (path) => {
    const file = Deno.openSync(path, { write: true, truncate: true });
    const w = new DbWriter(fileSink(file));
    w.beginBucket("big");
    for (let i = 0; i < 40_000; i++) {
      await w.put(`k${String(i).padStart(6, "0")}`, enc.encode(`v${i}`.repeat(1 + (i % 9))));
    }
    await w.put("k999999", new Uint8Array(100_000).fill(0x61));
    await w.endBucket();
    w.beginBucket("meta");
    await w.put("consistent_index", new Uint8Array([0, 0, 0, 0, 0, 0, 0, 42]));
    await w.endBucket();
    await w.finish();
    file.close();
    assert.deepEqual(await bboltOk("check", path), ["OK"]);
    assert.deepEqual(await bboltOk("buckets", path), ["big", "meta"]);
    const keys = await bboltOk("keys", path, "big");
    assert.equal(keys.length, 40_001);
    assert.equal(keys[12_345], "k012345");
    assert.deepEqual(await bboltOk("get", path, "big", "k031337"), [
      "v31337".repeat(1 + (31337 % 9)),
    ]);
    assert.deepEqual(await bboltOk("get", path, "big", "k999999"), ["a".repeat(100_000)]);
    const missing = await bbolt("get", path, "big", "k0123456");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /key not found/);
  });
});

Deno.test("bbolt can write on top of a file we wrote, and we read what it wrote", async () => {
  await withTempDb(async (path) => {
    const buckets = bigDb(5000);
    Deno.writeFileSync(path, await buildDb(buckets));
    await bboltOk("put", path, "big", "key/00002500x", "added by bbolt");
    await bboltOk("put", path, "nested", "small", "x", "changed by bbolt");
    assert.deepEqual(await bboltOk("check", path), ["OK"]);
    const db = openDbFile(path);
    try {
      assert.ok(db.txid > 1n, "bbolt committed a newer meta");
      assert.equal(dec.decode(db.bucket("big")!.get("key/00002500x")!), "added by bbolt");
      assert.equal(dec.decode(db.bucket("nested", "small")!.get("x")!), "changed by bbolt");
      assert.equal(db.bucket("big")!.count(), 5002);
      assert.deepEqual(readerDump(db), await bboltOk("dump", path));
    } finally {
      db.close();
    }
  });
});

Deno.test("files bbolt writes (shuffled puts, deletes, commits) read back identically", async () => {
  await withTempDb(async (path) => {
    await fc.assert(
      fc.asyncProperty(
        dbArb,
        fc.integer(),
        fc.constantFrom(1024, 4096),
        async (buckets, seed, ps) => {
          Deno.removeSync(path);
          await bboltFill(path, fillScript(buckets, seed), ps);
          const db = openDb(Deno.readFileSync(path));
          assert.equal(db.pageSize, ps);
          assert.deepEqual(readerDump(db), expectedDump(buckets));
        },
      ),
      { numRuns: 20 },
    );
  });
});

Deno.test("a big bbolt file (levels, overflow, free pages) reads the same from disk and memory", async () => {
  await withTempDb(async (path) => {
    const buckets = bigDb();
    await bboltFill(path, fillScript(buckets, 7));
    const fromBbolt = await bboltOk("dump", path);
    assert.deepEqual(fromBbolt, expectedDump(buckets));
    const db = openDbFile(path);
    try {
      assert.ok(db.meta.freelist !== null && db.meta.pgid > 1000, `${db.meta.pgid} pages`);
      assert.deepEqual(readerDump(db), fromBbolt);
      const big = db.bucket("big")!;
      assert.equal(big.get("key/zz-overflow")!.length, 50_000);
      const from = [...big.entries("key/00029998")].map(([k]) => dec.decode(k));
      assert.deepEqual(from, ["key/00029998", "key/00029999", "key/zz-overflow"]);
    } finally {
      db.close();
    }
    assert.deepEqual(readerDump(openDb(Deno.readFileSync(path))), fromBbolt);
  });
});

Deno.test("when bbolt's newer meta is damaged both bbolt and we read the older transaction", async () => {
  await withTempDb(async (path) => {
    Deno.writeFileSync(path, await buildDb(bigDb(3000)));
    await bboltOk("put", path, "big", "late", "written in transaction 2");
    const bytes = Deno.readFileSync(path);
    assert.equal(openDb(bytes).txid, 2n);
    assert.equal(
      new TextDecoder().decode(openDb(bytes).bucket("big")!.get("late")),
      "written in transaction 2",
    );
    bytes[16 + 48] ^= 0x10; // txid of meta 0, which bbolt's commit of txid 2 wrote
    Deno.writeFileSync(path, bytes);
    const db = openDb(bytes);
    assert.equal(db.txid, 0n);
    assert.equal(db.bucket("big")!.get("late"), undefined);
    const r = await bbolt("get", path, "big", "late");
    assert.match(r.stderr, /key not found/, "bbolt also reads the older meta");
    assert.deepEqual(readerDump(db), await bboltOk("dump", path));
  });
});
