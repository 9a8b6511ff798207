// The on-disk layout of a bbolt file, as bbolt 1.3 writes it on little-endian machines (every
// platform etcd ships for). bbolt stores its structs in native byte order without padding
// surprises: each struct below is a run of fixed-width little-endian integers.

/** Marks a bbolt file; read at the start of each meta. */
export const MAGIC = 0xed0cdaed;
/** The only file format version bbolt 1.3 reads and writes. */
export const VERSION = 2;
/** bbolt's default page size (the usual OS page size). */
export const DEFAULT_PAGE_SIZE = 4096;

/** Page header: id u64, flags u16, count u16, overflow u32. */
export const PAGE_HEADER_SIZE = 16;
/** Leaf element: flags u32, pos u32, ksize u32, vsize u32; pos counts from the element itself. */
export const LEAF_ELEMENT_SIZE = 16;
/** Branch element: pos u32, ksize u32, child page id u64. */
export const BRANCH_ELEMENT_SIZE = 16;
/** Bucket header, the value of a bucket's key: root page id u64, sequence u64. */
export const BUCKET_HEADER_SIZE = 16;
/** Meta: magic, version, page size, flags (u32 each), root bucket header, freelist, pgid, txid,
 * checksum (u64 each). The checksum covers the 56 bytes before it. */
export const META_SIZE = 64;
export const META_CHECKSUMMED = 56;

export const BRANCH_PAGE = 0x01;
export const LEAF_PAGE = 0x02;
export const META_PAGE = 0x04;
export const FREELIST_PAGE = 0x10;
/** Leaf element flag: the value is a bucket header (possibly with an inline page). */
export const BUCKET_LEAF = 0x01;

/** bbolt's limits on what a put accepts. */
export const MAX_KEY_SIZE = 32768;
export const MAX_VALUE_SIZE = 2 ** 31 - 2;
/** A page element count is a u16, and 0xffff marks a freelist whose count spills over. */
export const MAX_ELEMENTS = 0xfffe;
/** bbolt splits a node only when each half keeps this many keys. */
export const MIN_KEYS_PER_PAGE = 2;
/** Meta freelist value when the freelist is not stored (NoFreelistSync). */
export const NO_FREELIST = 0xffffffffffffffffn;

/** Page sizes bbolt files use: powers of two from 512 bytes to 16 MiB. */
export function isPageSize(n: number): boolean {
  return n >= 512 && n <= 1 << 24 && (n & (n - 1)) === 0;
}

/** Bucket names and keys may be given as text, stored as UTF-8. */
export type Name = Uint8Array | string;

const encoder = new TextEncoder();

export function nameBytes(name: Name): Uint8Array {
  return typeof name === "string" ? encoder.encode(name) : name;
}

export interface PageHeader {
  id: number;
  flags: number;
  count: number;
  overflow: number;
}

/** A database that is not a bbolt file, or one whose pages contradict each other. */
export class BboltError extends Error {
  override name = "BboltError";
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads a u64 page id as a number; ids past 2^53 cannot address a real file. */
export function readPgid(v: DataView, offset: number): number {
  const n = v.getBigUint64(offset, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BboltError(`bbolt: page id ${n} at offset ${offset} is beyond any file`);
  }
  return Number(n);
}

export function readPageHeader(bytes: Uint8Array, offset = 0): PageHeader {
  const v = view(bytes);
  return {
    id: readPgid(v, offset),
    flags: v.getUint16(offset + 8, true),
    count: v.getUint16(offset + 10, true),
    overflow: v.getUint32(offset + 12, true),
  };
}

export function writePageHeader(bytes: Uint8Array, h: PageHeader, offset = 0): void {
  const v = view(bytes);
  v.setBigUint64(offset, BigInt(h.id), true);
  v.setUint16(offset + 8, h.flags, true);
  v.setUint16(offset + 10, h.count, true);
  v.setUint32(offset + 12, h.overflow, true);
}

/** The page type names bbolt prints. */
export function pageType(flags: number): string {
  if (flags & BRANCH_PAGE) return "branch";
  if (flags & LEAF_PAGE) return "leaf";
  if (flags & META_PAGE) return "meta";
  if (flags & FREELIST_PAGE) return "freelist";
  return `unknown<${flags.toString(16).padStart(2, "0")}>`;
}

/** Byte-wise order, the order of keys in every bbolt bucket; a may be a range of a buffer. */
export function compareKeys(a: Uint8Array, b: Uint8Array, aStart = 0, aEnd = a.length): number {
  const n = Math.min(aEnd - aStart, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[aStart + i] - b[i];
    if (d !== 0) return d;
  }
  return aEnd - aStart - b.length;
}

/** Keys in error messages: text when printable, hex otherwise. */
export function showKey(key: Uint8Array): string {
  const printable = key.every((c) => c >= 0x20 && c < 0x7f);
  if (printable && key.length <= 64) return JSON.stringify(new TextDecoder().decode(key));
  const hex = Array.from(key.subarray(0, 32), (c) => c.toString(16).padStart(2, "0")).join("");
  return `0x${hex}${key.length > 32 ? `... (${key.length} bytes)` : ""}`;
}
