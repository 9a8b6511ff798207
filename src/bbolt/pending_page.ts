// A page being filled by the writer. Keys and values are copied as they arrive into one buffer,
// back to back in element order, which is exactly the data section bbolt's node.write lays out
// after the element headers; encoding a page is then the headers plus one copy of that buffer.
import {
  BRANCH_PAGE,
  compareKeys,
  LEAF_ELEMENT_SIZE,
  LEAF_PAGE,
  PAGE_HEADER_SIZE,
  view,
  writePageHeader,
} from "./layout.ts";

export class PendingPage {
  #data: Uint8Array;
  #length = 0;
  #keySizes: number[] = [];
  /** Leaf: value sizes and element flags. Branch: child page ids. */
  #valueSizes: number[] = [];
  #flags: number[] = [];
  #children: number[] = [];
  #lastKeyAt = 0;

  /** `initial` sizes the buffer (about a page); it grows for big values and shrinks back. */
  constructor(readonly leaf: boolean, readonly initial: number) {
    this.#data = new Uint8Array(initial);
  }

  get count(): number {
    return this.#keySizes.length;
  }

  /** Bytes the encoded page occupies before rounding up to whole pages. */
  get size(): number {
    return PAGE_HEADER_SIZE + this.count * LEAF_ELEMENT_SIZE + this.#length;
  }

  /** Bytes adding this element would add to the page (bbolt's element header is 16 bytes). */
  elementSize(key: Uint8Array, value: Uint8Array): number {
    return LEAF_ELEMENT_SIZE + key.length + (this.leaf ? value.length : 0);
  }

  /** Leaf: key, value and flags. Branch: key and child page id (value is empty). */
  add(key: Uint8Array, value: Uint8Array, flags: number, child: number): void {
    const need = this.#length + key.length + value.length;
    if (need > this.#data.length) {
      const grown = new Uint8Array(Math.max(need, this.#data.length * 2));
      grown.set(this.#data.subarray(0, this.#length));
      this.#data = grown;
    }
    this.#lastKeyAt = this.#length;
    this.#data.set(key, this.#length);
    this.#data.set(value, this.#length + key.length);
    this.#length = need;
    this.#keySizes.push(key.length);
    if (this.leaf) {
      this.#valueSizes.push(value.length);
      this.#flags.push(flags);
    } else this.#children.push(child);
  }

  /** A view of the first key; valid until clear(). */
  firstKey(): Uint8Array {
    return this.#data.subarray(0, this.#keySizes[0]);
  }

  /** A copy of the last key added. */
  lastKey(): Uint8Array {
    return this.#data.slice(this.#lastKeyAt, this.#lastKeyAt + this.#keySizes[this.count - 1]);
  }

  /** Compares key with the last key added (the page must not be empty). */
  compareLast(key: Uint8Array): number {
    const at = this.#lastKeyAt;
    return compareKeys(this.#data, key, at, at + this.#keySizes[this.count - 1]);
  }

  /** Writes the page into `out` (zeroed, at least `size` bytes) as page `id`. */
  encode(out: Uint8Array, id: number, overflow: number): void {
    const n = this.count;
    writePageHeader(out, { id, flags: this.leaf ? LEAF_PAGE : BRANCH_PAGE, count: n, overflow });
    const v = view(out);
    let data = PAGE_HEADER_SIZE + n * LEAF_ELEMENT_SIZE;
    out.set(this.#data.subarray(0, this.#length), data);
    for (let i = 0, at = PAGE_HEADER_SIZE; i < n; i++, at += LEAF_ELEMENT_SIZE) {
      const ksize = this.#keySizes[i];
      if (this.leaf) {
        v.setUint32(at, this.#flags[i], true);
        v.setUint32(at + 4, data - at, true);
        v.setUint32(at + 8, ksize, true);
        v.setUint32(at + 12, this.#valueSizes[i], true);
        data += ksize + this.#valueSizes[i];
      } else {
        v.setUint32(at, data - at, true);
        v.setUint32(at + 4, ksize, true);
        v.setBigUint64(at + 8, BigInt(this.#children[i]), true);
        data += ksize;
      }
    }
  }

  clear(): void {
    this.#length = 0;
    this.#keySizes.length = 0;
    this.#valueSizes.length = 0;
    this.#flags.length = 0;
    this.#children.length = 0;
    if (this.#data.length > 4 * this.initial) this.#data = new Uint8Array(this.initial);
  }
}
