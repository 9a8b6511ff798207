// Buckets as bbolt stores them: a key in the parent bucket whose leaf element carries the
// BUCKET_LEAF flag and whose value is a bucket header. A header with root 0 is followed by the
// bucket's only page, inline: bbolt inlines small buckets to save a page each.
import {
  BboltError,
  BUCKET_HEADER_SIZE,
  LEAF_PAGE,
  type Name,
  nameBytes,
  readPgid,
  showKey,
  view,
} from "./layout.ts";
import { Cursor, type Tree } from "./cursor.ts";
import { Page, type Pager } from "./page.ts";

export class Bucket {
  readonly #cursorTree: Tree;

  /** `path` names the bucket in errors ("" for the root); root is a page id or inline page. */
  constructor(pager: Pager, readonly path: string, root: number | Page, readonly sequence: bigint) {
    this.#cursorTree = { pager, root, name: path };
  }

  /** Opens a nested bucket from the value of its key in the parent. */
  static fromValue(pager: Pager, path: string, value: Uint8Array): Bucket {
    if (value.length < BUCKET_HEADER_SIZE) {
      throw new BboltError(`bbolt: bucket ${path}: header has ${value.length} bytes, want 16`);
    }
    const v = view(value);
    const root = readPgid(v, 0);
    const sequence = v.getBigUint64(8, true);
    if (root !== 0) return new Bucket(pager, path, root, sequence);
    const inline = new Page(value.subarray(BUCKET_HEADER_SIZE), `inline page of bucket ${path}`);
    if (!inline.isLeaf) {
      throw new BboltError(
        `bbolt: bucket ${path}: inline page is not a leaf (flags must ` +
          `include 0x${LEAF_PAGE.toString(16)})`,
      );
    }
    return new Bucket(pager, path, inline, sequence);
  }

  cursor(): Cursor {
    return new Cursor(this.#cursorTree);
  }

  /** The value stored at key; undefined when absent or when key names a nested bucket. */
  get(key: Name): Uint8Array | undefined {
    const k = nameBytes(key);
    const c = this.cursor();
    if (!c.seek(k) || !equal(c.key, k) || c.isBucket) return undefined;
    return c.value;
  }

  /** The nested bucket called name, or undefined. */
  bucket(name: Name): Bucket | undefined {
    const k = nameBytes(name);
    const c = this.cursor();
    if (!c.seek(k) || !equal(c.key, k) || !c.isBucket) return undefined;
    const path = this.path === "" ? showKey(k) : `${this.path}/${showKey(k)}`;
    return Bucket.fromValue(this.#cursorTree.pager, path, c.value);
  }

  /** Names of the nested buckets, in key order. */
  *buckets(): Generator<Uint8Array> {
    const c = this.cursor();
    for (let ok = c.first(); ok; ok = c.next()) {
      if (c.isBucket) yield c.key;
    }
  }

  /**
   * Key/value pairs in key order, from the first key >= start (or the first key); nested
   * buckets are left out (see buckets()). Keys and values are views of the page they live in:
   * copy them to keep them past the database's life.
   */
  *entries(start?: Name): Generator<[Uint8Array, Uint8Array]> {
    const c = this.cursor();
    for (let ok = start === undefined ? c.first() : c.seek(nameBytes(start)); ok; ok = c.next()) {
      if (!c.isBucket) yield [c.key, c.value];
    }
  }

  /** Number of key/value pairs (nested buckets not counted). */
  count(): number {
    let n = 0;
    const c = this.cursor();
    for (let ok = c.first(); ok; ok = c.next()) {
      if (!c.isBucket) n++;
    }
    return n;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
