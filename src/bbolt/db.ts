// Opening a bbolt file for reading: find the page size, pick the meta bbolt would pick, and check
// that the file holds every page below the meta's high-water mark.
import { BboltError, DEFAULT_PAGE_SIZE, META_SIZE, type Name, PAGE_HEADER_SIZE } from "./layout.ts";
import { chooseMeta, type Meta, readMeta } from "./meta.ts";
import { Bucket } from "./bucket.ts";
import { Pager } from "./page.ts";
import { type ByteSource, bytesSource, fileSource } from "./source.ts";

const META_BYTES = PAGE_HEADER_SIZE + META_SIZE;

/** A bbolt database open for reading, at the transaction its chosen meta describes. */
export class Db {
  /** The root bucket: its entries are the top-level buckets. */
  readonly root: Bucket;

  constructor(readonly source: ByteSource, readonly meta: Meta) {
    const pager = new Pager(source, meta.pageSize, meta.pgid);
    this.root = new Bucket(pager, "", meta.root, meta.rootSequence);
  }

  get pageSize(): number {
    return this.meta.pageSize;
  }

  get txid(): bigint {
    return this.meta.txid;
  }

  /** Names of the top-level buckets, in order. */
  buckets(): Uint8Array[] {
    return [...this.root.buckets()];
  }

  /** The bucket at a path of names from the top (["a", "b"] is bucket b inside bucket a). */
  bucket(...path: Name[]): Bucket | undefined {
    let b: Bucket | undefined = this.root;
    for (const name of path) b = b?.bucket(name);
    return b === this.root ? undefined : b;
  }

  close(): void {
    this.source.close();
  }
}

/** Opens a database held in memory. The bytes are used in place, not copied. */
export function openDb(bytes: Uint8Array): Db {
  return openDbSource(bytesSource(bytes));
}

/**
 * Opens a database file, read a page at a time; close() the Db to close the file. bbolt changes
 * its file in place, so open one no process is writing (a stopped member's, or a snapshot).
 */
export function openDbFile(path: string): Db {
  const file = Deno.openSync(path, { read: true });
  try {
    return openDbSource(fileSource(file));
  } catch (e) {
    file.close();
    throw e;
  }
}

export function openDbSource(source: ByteSource): Db {
  if (source.size < META_BYTES) {
    throw new BboltError(`bbolt: not a bbolt database: ${source.size} bytes, too short for a meta`);
  }
  const m0 = readMeta(source.read(0, META_BYTES));
  const pageSize = typeof m0 === "string" ? findPageSize(source) : m0.pageSize;
  if (pageSize === undefined) {
    // Neither meta is readable: report meta 1 where bbolt would look for it.
    const m1 = source.size < DEFAULT_PAGE_SIZE + META_BYTES
      ? "beyond the end of the file"
      : readMeta(source.read(DEFAULT_PAGE_SIZE, META_BYTES));
    throw new BboltError(`bbolt: not a bbolt database: meta page 0: ${m0}; meta page 1: ${m1}`);
  }
  if (source.size < 2 * pageSize) {
    throw new BboltError(
      `bbolt: truncated: ${source.size} bytes end before meta page 1 ` +
        `(page size ${pageSize})`,
    );
  }
  const m1 = readMeta(source.read(pageSize, META_BYTES));
  const meta = chooseMeta(m0, m1);
  if (!meta) {
    throw new BboltError(`bbolt: not a bbolt database: meta page 0: ${m0}; meta page 1: ${m1}`);
  }
  checkMeta(meta, pageSize, source.size);
  return new Db(source, meta);
}

/**
 * When meta 0 is damaged its page size is unknown; bbolt then assumes the OS page size. Trying
 * every power of two finds meta 1 also in files made with another page size.
 */
function findPageSize(source: ByteSource): number | undefined {
  const sizes = [DEFAULT_PAGE_SIZE];
  for (let s = 512; s <= 1 << 24; s *= 2) if (s !== DEFAULT_PAGE_SIZE) sizes.push(s);
  for (const size of sizes) {
    if (source.size < size + META_BYTES) continue;
    const m = readMeta(source.read(size, META_BYTES));
    if (typeof m !== "string" && m.pageSize === size) return size;
  }
  return undefined;
}

function checkMeta(meta: Meta, pageSize: number, size: number): void {
  const txid = `meta of transaction ${meta.txid}`;
  if (meta.pageSize !== pageSize) {
    throw new BboltError(
      `bbolt: ${txid} says page size ${meta.pageSize}, but meta page 1 ` +
        `was found at offset ${pageSize}`,
    );
  }
  if (meta.pgid < 3 || meta.root < 2 || meta.root >= meta.pgid) {
    throw new BboltError(
      `bbolt: ${txid}: root page ${meta.root} is outside the data pages ` +
        `2..${meta.pgid - 1}`,
    );
  }
  if (meta.pgid * pageSize > size) {
    throw new BboltError(
      `bbolt: truncated: the ${txid} has ${meta.pgid} pages ` +
        `(${meta.pgid * pageSize} bytes), the file has ${size} bytes`,
    );
  }
}
