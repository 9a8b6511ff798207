// Damaged files: the reader refuses them with a BboltError that says which page or offset is
// wrong, never reads outside a page, and falls back to the older meta exactly when bbolt does.
import assert from "node:assert/strict";
import fc from "fast-check";
import { BboltError, buildDb, openDb, openDbFile } from "../../src/bbolt/mod.ts";
import { bigDb, enc, readerDump, withTempDb } from "../helpers/bbolt.ts";

const PS = 4096;
const sample = await buildDb(bigDb(3000));

function fails(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof BboltError, `not a BboltError: ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

const u64 = (b: Uint8Array, at: number) => Number(new DataView(b.buffer).getBigUint64(at, true));
const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer).getUint32(at, true);
const setU64 = (b: Uint8Array, at: number, v: number) =>
  new DataView(b.buffer).setBigUint64(at, BigInt(v), true);
const setU32 = (b: Uint8Array, at: number, v: number) =>
  new DataView(b.buffer).setUint32(at, v, true);

/** Offset of a top-level bucket's header (its value in the root bucket) in the file. */
function bucketHeaderAt(bytes: Uint8Array, name: string): number {
  const c = openDb(bytes).root.cursor();
  assert.ok(c.seek(enc.encode(name)) && c.isBucket);
  return c.value.byteOffset;
}

/** A copy of the sample and the ids of bucket "big"'s root branch and its first leaf. */
function damaged(): { bytes: Uint8Array; branch: number; leaf: number } {
  const bytes = sample.slice();
  const branch = u64(bytes, bucketHeaderAt(bytes, "big"));
  assert.equal(new DataView(bytes.buffer).getUint16(branch * PS + 8, true), 0x01);
  return { bytes, branch, leaf: u64(bytes, branch * PS + 16 + 8) };
}

const readAll = (bytes: Uint8Array) => () => readerDump(openDb(bytes));

Deno.test("a truncated file is refused, at any length, from memory and from disk", async () => {
  fails(() => openDb(new Uint8Array(0)), /not a bbolt database: 0 bytes/);
  fails(() => openDb(sample.subarray(0, 5000)), /truncated: 5000 bytes end before meta page 1/);
  fails(
    () => openDb(sample.subarray(0, sample.length - 1)),
    /truncated: the meta .* has \d+ pages/,
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: sample.length - 1 }), (n) => {
      fails(() => openDb(sample.subarray(0, n)), /not a bbolt database|truncated/);
    }),
  );
  await withTempDb((path) => {
    Deno.writeFileSync(path, sample.subarray(0, sample.length - PS));
    fails(() => openDbFile(path), /truncated: the meta of transaction 1 has \d+ pages/);
  });
});

Deno.test("files that are not bbolt files are refused", () => {
  fails(
    () => openDb(new Uint8Array(3 * PS)),
    /not a bbolt database: meta page 0: magic 0x00000000/,
  );
  fails(() => openDb(enc.encode("hello\n".repeat(2000))), /not a bbolt database/);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 3 * PS }), (junk) => {
      fails(() => openDb(junk), /not a bbolt database/);
    }),
  );
  const swapped = sample.slice();
  for (const at of [16, PS + 16]) swapped.set(swapped.subarray(at, at + 4).reverse(), at);
  fails(() => openDb(swapped), /big-endian/);
});

Deno.test("a flipped byte in one meta falls back to the other, in both is refused", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 16, max: 16 + 63 }),
      fc.integer({ min: 1, max: 255 }),
      (at, x) => {
        const one = sample.slice();
        one[at] ^= x;
        const db = openDb(one);
        assert.equal(db.txid, 0n, "meta 1 (txid 0) is used when meta 0 is damaged");
        assert.deepEqual({ ...db.meta, txid: 1n }, openDb(sample).meta);
        assert.equal(db.bucket("big")!.count(), 3001);
        const both = one.slice();
        both[PS + at] ^= x;
        fails(() => openDb(both), /meta page 0: .*; meta page 1: /);
      },
    ),
  );
  const both = sample.slice();
  both[16 + 40] ^= 1; // pgid
  both[PS + 16 + 40] ^= 1;
  fails(() => openDb(both), /meta page 0: checksum 0x[0-9a-f]+ does not match/);
});

Deno.test("page ids out of range or of the wrong type are refused with the page named", () => {
  for (
    const [target, pattern] of [
      [999_999, /page \d+ \(offset \d+\) element 1 points at page 999999, outside the data pages/],
      [0, /points at page 0, outside the data pages 2\.\./],
      [2, /page 2 \(offset 8192\): expected a branch or leaf page, found freelist/],
    ] as const
  ) {
    const { bytes, branch } = damaged();
    setU64(bytes, branch * PS + 16 + 16 + 8, target);
    fails(readAll(bytes), pattern);
  }
  const { bytes } = damaged();
  setU64(bytes, bucketHeaderAt(bytes, "big"), 5_000_000);
  fails(() => openDb(bytes).bucket("big")!.count(), /bucket "big" points at page 5000000/);
});

Deno.test("damaged page headers and elements are refused, naming page and element", () => {
  let d = damaged();
  setU64(d.bytes, d.leaf * PS, d.leaf + 1);
  fails(readAll(d.bytes), new RegExp(`page ${d.leaf} \\(offset ${d.leaf * PS}\\): header says`));
  d = damaged();
  new DataView(d.bytes.buffer).setUint16(d.leaf * PS + 10, 0xfff0, true);
  fails(readAll(d.bytes), /65520 elements need \d+ bytes, the page has 4096/);
  d = damaged();
  setU32(d.bytes, d.leaf * PS + 16 + 16 * 3 + 8, 70_000); // ksize of element 3
  fails(readAll(d.bytes), /element 3 points at bytes \d+\.\.\d+, past the page's 4096 bytes/);
  d = damaged();
  setU32(d.bytes, d.leaf * PS + 12, 1 << 30); // overflow
  fails(readAll(d.bytes), /overflow pages run past the high-water mark/);
});

Deno.test("keys out of order and pages pointing in a loop are refused", () => {
  let d = damaged();
  const c = openDb(d.bytes).bucket("big")!.cursor();
  c.first();
  c.next();
  d.bytes[c.key.byteOffset] = 0xfe; // the second key now sorts after the third
  fails(readAll(d.bytes), /key .* follows .*: keys out of order/);
  d = damaged();
  setU64(d.bytes, d.branch * PS + 16 + 8, d.branch);
  fails(readAll(d.bytes), /tree deeper than 64 levels/);
  d = damaged();
  setU64(d.bytes, d.branch * PS + 16 + 16 + 8, d.branch);
  fails(() => openDb(d.bytes).bucket("big")!.count(), /deeper than 64 levels|out of order/);
});

Deno.test("damaged bucket headers and inline pages are refused", () => {
  let bytes = sample.slice();
  const c = openDb(bytes).bucket("nested")!.cursor();
  assert.ok(c.seek(enc.encode("small")) && c.isBucket);
  const at = c.value.byteOffset;
  assert.equal(u64(bytes, at), 0, "bucket small is inline");
  new DataView(bytes.buffer).setUint16(at + 16 + 8, 0x01, true);
  fails(
    () => openDb(bytes).bucket("nested", "small"),
    /bucket "nested"\/"small": inline page is not a leaf/,
  );
  bytes = sample.slice();
  new DataView(bytes.buffer).setUint16(at + 16 + 10, 60, true);
  fails(
    () => openDb(bytes).bucket("nested", "small")!.count(),
    /inline page of bucket .*: 60 elements/,
  );
  // Shorten the value of key "small" (its vsize) to cut the bucket header or the inline page.
  const page = Math.floor(at / PS) * PS;
  const element = [...Array(40).keys()].map((i) => page + 16 + 16 * i).find((e) =>
    e + u32(sample, e + 4) + u32(sample, e + 8) === at
  )!;
  for (
    const [vsize, pattern] of [[8, /header has 8 bytes/], [20, /too short for a page/]] as const
  ) {
    bytes = sample.slice();
    setU32(bytes, element + 12, vsize);
    fails(() => openDb(bytes).bucket("nested", "small"), pattern);
  }
});
