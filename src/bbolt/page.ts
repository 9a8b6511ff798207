// Reading branch and leaf pages. bbolt keeps no checksum on data pages, so every field is checked
// against the page's bounds before use: a damaged page gives an error naming the page and offset,
// never a read outside it or a silently wrong key.
import {
  BboltError,
  BRANCH_ELEMENT_SIZE,
  BRANCH_PAGE,
  compareKeys,
  LEAF_ELEMENT_SIZE,
  LEAF_PAGE,
  PAGE_HEADER_SIZE,
  pageType,
  readPageHeader,
  readPgid,
  view,
} from "./layout.ts";
import type { ByteSource } from "./source.ts";

/** A branch or leaf page: its header fields and a bounds-checked view of its elements. */
export class Page {
  readonly isLeaf: boolean;
  readonly count: number;
  readonly #view: DataView;

  /** `where` names the page in errors: "page 12 (offset 49152)" or "inline page of bucket x". */
  constructor(readonly bytes: Uint8Array, readonly where: string) {
    if (bytes.length < PAGE_HEADER_SIZE) {
      throw new BboltError(`bbolt: ${where}: ${bytes.length} bytes, too short for a page header`);
    }
    const h = readPageHeader(bytes);
    if (!(h.flags & (BRANCH_PAGE | LEAF_PAGE))) {
      throw new BboltError(
        `bbolt: ${where}: expected a branch or leaf page, found ${pageType(h.flags)} (flags 0x${
          h.flags.toString(16)
        })`,
      );
    }
    this.isLeaf = (h.flags & LEAF_PAGE) !== 0;
    this.count = h.count;
    this.#view = view(bytes);
    const elements = PAGE_HEADER_SIZE + h.count * LEAF_ELEMENT_SIZE;
    if (elements > bytes.length) {
      throw new BboltError(
        `bbolt: ${where}: ${h.count} elements need ${elements} bytes, the page has ${bytes.length}`,
      );
    }
  }

  /** Offset of element i's header; leaf and branch elements are both 16 bytes. */
  #element(i: number): number {
    return PAGE_HEADER_SIZE + i * LEAF_ELEMENT_SIZE;
  }

  /** Checks that [start, start+length) lies in the page. */
  #check(i: number, start: number, length: number): void {
    if (start + length > this.bytes.length) {
      throw new BboltError(
        `bbolt: ${this.where}: element ${i} points at bytes ${start}..${start + length}, ` +
          `past the page's ${this.bytes.length} bytes`,
      );
    }
  }

  key(i: number): Uint8Array {
    const [start, end] = this.#keyRange(i);
    return this.bytes.subarray(start, end);
  }

  /** Compares key i with `key` in place (binary searches make no views). */
  compareKey(i: number, key: Uint8Array): number {
    const [start, end] = this.#keyRange(i);
    return compareKeys(this.bytes, key, start, end);
  }

  #keyRange(i: number): [number, number] {
    const e = this.#element(i);
    const pos = this.#view.getUint32(e + (this.isLeaf ? 4 : 0), true);
    const ksize = this.#view.getUint32(e + (this.isLeaf ? 8 : 4), true);
    this.#check(i, e + pos, ksize);
    return [e + pos, e + pos + ksize];
  }

  /** Leaf only: the element's flags (BUCKET_LEAF marks a bucket). */
  flags(i: number): number {
    return this.#view.getUint32(this.#element(i), true);
  }

  /** Leaf only. */
  value(i: number): Uint8Array {
    const e = this.#element(i);
    const pos = this.#view.getUint32(e + 4, true);
    const ksize = this.#view.getUint32(e + 8, true);
    const vsize = this.#view.getUint32(e + 12, true);
    this.#check(i, e + pos + ksize, vsize);
    return this.bytes.subarray(e + pos + ksize, e + pos + ksize + vsize);
  }

  /** Branch only: the page id of child i. */
  child(i: number): number {
    return readPgid(this.#view, this.#element(i) + BRANCH_ELEMENT_SIZE - 8);
  }
}

/** Loads pages by id, checking each against the high-water mark and the file's length. */
export class Pager {
  readonly #cache = new Map<number, Page>();
  readonly #cacheLimit: number;

  constructor(
    readonly source: ByteSource,
    readonly pageSize: number,
    readonly highWater: number,
  ) {
    // Keep up to 16 MB of branch pages of a file source: about 1% of the file is branch pages
    // (a 4 KB branch page indexes ~100 leaves), so lookups in files to ~1.5 GB stay cached.
    this.#cacheLimit = source.inMemory ? 0 : Math.max(16, (16 << 20) / pageSize);
  }

  page(id: number, from: string): Page {
    const cached = this.#cache.get(id);
    if (cached) return cached;
    const p = this.#load(id, from);
    // Only branch pages are cached (the oldest goes first): every lookup passes through them,
    // while a leaf is read once by the cursor that holds it. A cached page is copied out of
    // the source's buffers so that it does not keep a whole read-ahead block alive.
    if (this.#cacheLimit > 0 && !p.isLeaf) {
      if (this.#cache.size >= this.#cacheLimit) {
        this.#cache.delete(this.#cache.keys().next().value!);
      }
      this.#cache.set(id, new Page(p.bytes.slice(), p.where));
    }
    return p;
  }

  #load(id: number, from: string): Page {
    const offset = id * this.pageSize;
    const where = `page ${id} (offset ${offset})`;
    if (id < 2 || id >= this.highWater) {
      throw new BboltError(
        `bbolt: ${from} points at page ${id}, outside the data pages 2..${this.highWater - 1}`,
      );
    }
    // The meta's high-water mark was checked against the file size when it was opened.
    let bytes = this.source.read(offset, this.pageSize);
    const h = readPageHeader(bytes);
    if (h.id !== id) {
      throw new BboltError(`bbolt: ${where}: header says page ${h.id}`);
    }
    if (h.overflow > 0) {
      const span = (h.overflow + 1) * this.pageSize;
      if (id + h.overflow >= this.highWater) {
        throw new BboltError(
          `bbolt: ${where}: ${h.overflow} overflow pages run past the ` +
            `high-water mark ${this.highWater}`,
        );
      }
      bytes = this.source.read(offset, span);
    }
    return new Page(bytes, where);
  }
}
