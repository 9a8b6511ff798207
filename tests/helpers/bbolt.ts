// Test data for the bbolt tests: bucket trees as plain data (random with fast-check, or large
// and fixed), and the two text forms the Go tools speak: the dump lines that `bbolt dump` prints
// and the script that `bbolt-fill` runs. The expected dump is computed here, apart from the
// writer, so the writer is checked against an independent ordering.
import fc from "fast-check";
import { type BucketData, type Db, type Name } from "../../src/bbolt/mod.ts";

export const enc = new TextEncoder();

export function hex(b: Uint8Array): string {
  return Array.from(b, (c) => c.toString(16).padStart(2, "0")).join("");
}

function bytes(n: Name): Uint8Array {
  return typeof n === "string" ? enc.encode(n) : n;
}

function cmp(a: Uint8Array, b: Uint8Array): number {
  return hex(a) < hex(b) ? -1 : hex(a) > hex(b) ? 1 : 0;
}

type Item = { key: Uint8Array; value?: Uint8Array; bucket?: BucketData };

function items(b: { entries?: BucketData["entries"]; buckets?: readonly BucketData[] }): Item[] {
  const out: Item[] = [...(b.entries ?? [])].map(([k, value]) => ({ key: bytes(k), value }));
  for (const bucket of b.buckets ?? []) out.push({ key: bytes(bucket.name), bucket });
  return out.sort((x, y) => cmp(x.key, y.key));
}

/** The lines `bbolt dump` prints for a database holding `buckets`. */
export function expectedDump(buckets: readonly BucketData[]): string[] {
  const lines: string[] = [];
  const walk = (b: BucketData) => {
    lines.push(`B ${hex(bytes(b.name))}`);
    if (b.sequence) lines.push(`S ${b.sequence}`);
    for (const it of items(b)) {
      if (it.bucket) walk(it.bucket);
      else lines.push(`P ${hex(it.key)} ${hex(it.value!)}`);
    }
    lines.push("E");
  };
  for (const it of items({ buckets })) walk(it.bucket!);
  return lines;
}

/** The same lines, read from a database with our reader (cursor order, nested in place). */
export function readerDump(db: Db): string[] {
  const lines: string[] = [];
  const walk = (name: Uint8Array, b: NonNullable<ReturnType<Db["bucket"]>>) => {
    lines.push(`B ${hex(name)}`);
    if (b.sequence) lines.push(`S ${b.sequence}`);
    const c = b.cursor();
    for (let ok = c.first(); ok; ok = c.next()) {
      if (c.isBucket) walk(c.key, b.bucket(c.key)!);
      else lines.push(`P ${hex(c.key)} ${hex(c.value)}`);
    }
    lines.push("E");
  };
  for (const name of db.buckets()) walk(name, db.bucket(name)!);
  return lines;
}

/**
 * A bbolt-fill script that builds `buckets` the way an application would: keys put in a
 * shuffled order (so bbolt splits pages as it does in use), extra keys put and then deleted in
 * a later transaction (so the file has free pages), and commits along the way.
 */
export function fillScript(buckets: readonly BucketData[], seed: number): string {
  let s = seed >>> 0;
  const rand = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const lines: string[] = [];
  const walk = (b: BucketData) => {
    const doomed: string[] = [];
    lines.push(`B ${hex(bytes(b.name))}`);
    if (b.sequence) lines.push(`S ${b.sequence}`);
    const its = items(b).sort(() => rand() - 0.5);
    its.forEach((it, i) => {
      if (it.bucket) walk(it.bucket);
      else lines.push(`P ${hex(it.key)} ${hex(it.value!)}`);
      if (i % 5 === 0) {
        const k = `ff${hex(enc.encode(`doomed-${i}`))}`;
        lines.push(`P ${k} ${"ab".repeat(200)}`);
        doomed.push(k);
      }
      if (i % 1000 === 999) lines.push("C");
    });
    lines.push("C");
    for (const k of doomed) lines.push(`D ${k}`);
    lines.push("E");
  };
  for (const it of items({ buckets })) walk(it.bucket!);
  return lines.join("\n") + "\n";
}

/** Keys beginning 0xff are kept free for fillScript's doomed keys. */
const key = fc.uint8Array({ minLength: 1, maxLength: 24 }).filter((k) => k[0] !== 0xff);
const value = fc.oneof(
  { weight: 12, arbitrary: fc.uint8Array({ maxLength: 120 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 3000, maxLength: 12000 }) },
);
const entries = fc.uniqueArray(fc.tuple(key, value), {
  maxLength: 300,
  selector: ([k]) => hex(k),
});

function bucketArb(depth: number): fc.Arbitrary<BucketData> {
  const nested = depth === 0
    ? fc.constant([] as BucketData[])
    : fc.uniqueArray(bucketArb(depth - 1), { maxLength: 3, selector: (b) => hex(bytes(b.name)) });
  return fc.record({
    name: key,
    entries,
    buckets: nested,
    sequence: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2n ** 64n - 1n })),
  }).map((b) => {
    // A nested bucket's name may not also be a key of its parent.
    const names = new Set(b.buckets.map((c) => hex(bytes(c.name))));
    return { ...b, entries: b.entries.filter(([k]) => !names.has(hex(k))) };
  });
}

/** Random databases: up to four top-level buckets, nested two deep. */
export const dbArb = fc.uniqueArray(bucketArb(2), {
  minLength: 0,
  maxLength: 4,
  selector: (b) => hex(bytes(b.name)),
});

/** A fixed database big enough for three-level trees, overflow values and inline buckets. */
export function bigDb(keys = 30_000): BucketData[] {
  const entries: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < keys; i++) {
    entries.push([enc.encode(`key/${String(i).padStart(8, "0")}`), enc.encode(`value ${i * 7}`)]);
  }
  const big = new Uint8Array(50_000).map((_, i) => (i * 31) & 0xff);
  return [
    { name: "big", entries: [...entries, [enc.encode("key/zz-overflow"), big]] },
    {
      name: "nested",
      entries: [["a", enc.encode("1")]],
      buckets: [{ name: "small", entries: [["x", enc.encode("y")]], sequence: 7n }, {
        name: "wide",
        entries: entries.slice(0, 3000),
        buckets: [{ name: "empty" }],
      }],
    },
    { name: "zempty" },
  ];
}

/** Runs fn with the path of a new empty file, removed afterwards. */
export async function withTempDb(fn: (path: string) => Promise<void> | void): Promise<void> {
  const path = Deno.makeTempFileSync({ prefix: "bbolt-test-", suffix: ".db" });
  try {
    await fn(path);
  } finally {
    Deno.removeSync(path);
  }
}
