// Meta pages 0 and 1: bbolt commits by writing the meta of transaction T to page T % 2, so
// one meta always survives a torn write. A reader takes the valid meta with the higher txid.
import {
  isPageSize,
  MAGIC,
  META_CHECKSUMMED,
  META_PAGE,
  META_SIZE,
  NO_FREELIST,
  PAGE_HEADER_SIZE,
  readPgid,
  VERSION,
  view,
  writePageHeader,
} from "./layout.ts";

export interface Meta {
  pageSize: number;
  flags: number;
  /** Root page of the root bucket, whose keys are the top-level bucket names. */
  root: number;
  rootSequence: bigint;
  /** Freelist page, or null when the file keeps no freelist (bbolt's NoFreelistSync). */
  freelist: number | null;
  /** High-water mark: the number of pages in use; every page id is below it. */
  pgid: number;
  txid: bigint;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = 0xffffffffffffffffn;

/** FNV-1a, 64 bits: bbolt's meta checksum. */
export function fnv64a(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & U64;
  return h;
}

/**
 * Reads the meta that starts PAGE_HEADER_SIZE bytes into `page`. Returns the reason it is not
 * valid instead of throwing, because an invalid meta is expected after a torn commit as long as
 * the other one holds. A zero checksum is accepted, as bbolt does for files from before checksums.
 */
export function readMeta(page: Uint8Array): Meta | string {
  if (page.length < PAGE_HEADER_SIZE + META_SIZE) return "shorter than a meta page";
  const m = page.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + META_SIZE);
  const v = view(m);
  const magic = v.getUint32(0, true);
  if (magic !== MAGIC) {
    const swapped = v.getUint32(0, false) === MAGIC ? " (a big-endian bbolt file?)" : "";
    return `magic 0x${magic.toString(16).padStart(8, "0")}, want 0x${MAGIC.toString(16)}${swapped}`;
  }
  const version = v.getUint32(4, true);
  if (version !== VERSION) return `version ${version}, want ${VERSION}`;
  const checksum = v.getBigUint64(META_CHECKSUMMED, true);
  const sum = fnv64a(m.subarray(0, META_CHECKSUMMED));
  if (checksum !== 0n && checksum !== sum) {
    return `checksum 0x${checksum.toString(16)} does not match its contents (0x${
      sum.toString(16)
    })`;
  }
  const pageSize = v.getUint32(8, true);
  if (!isPageSize(pageSize)) return `page size ${pageSize} is not a power of two in [512, 16M]`;
  try {
    return {
      pageSize,
      flags: v.getUint32(12, true),
      root: readPgid(v, 16),
      rootSequence: v.getBigUint64(24, true),
      freelist: v.getBigUint64(32, true) === NO_FREELIST ? null : readPgid(v, 32),
      pgid: readPgid(v, 40),
      txid: v.getBigUint64(48, true),
    };
  } catch (e) {
    return (e as Error).message;
  }
}

/** Writes a whole meta page (header, meta, checksum) for page `id` into `page`. */
export function writeMeta(page: Uint8Array, id: number, meta: Meta): void {
  if (meta.root >= meta.pgid || (meta.freelist !== null && meta.freelist >= meta.pgid)) {
    throw new RangeError(`meta points at a page above its high-water mark ${meta.pgid}`);
  }
  page.fill(0, 0, PAGE_HEADER_SIZE + META_SIZE);
  writePageHeader(page, { id, flags: META_PAGE, count: 0, overflow: 0 });
  const m = page.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + META_SIZE);
  const v = view(m);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, VERSION, true);
  v.setUint32(8, meta.pageSize, true);
  v.setUint32(12, meta.flags, true);
  v.setBigUint64(16, BigInt(meta.root), true);
  v.setBigUint64(24, meta.rootSequence, true);
  v.setBigUint64(32, meta.freelist === null ? NO_FREELIST : BigInt(meta.freelist), true);
  v.setBigUint64(40, BigInt(meta.pgid), true);
  v.setBigUint64(48, meta.txid, true);
  v.setBigUint64(META_CHECKSUMMED, fnv64a(m.subarray(0, META_CHECKSUMMED)), true);
}

/** bbolt's choice: the meta with the higher txid if valid, else the other if valid. */
export function chooseMeta(m0: Meta | string, m1: Meta | string): Meta | undefined {
  if (typeof m0 === "string") return typeof m1 === "string" ? undefined : m1;
  if (typeof m1 === "string") return m0;
  return m1.txid > m0.txid ? m1 : m0;
}
