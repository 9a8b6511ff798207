// A cursor over one bucket's B+tree, as bbolt's: a stack of (page, index) from the root to a
// leaf. Branch element i holds the first key of child i, so a search takes the last child whose
// first key is <= the key sought.
import { BboltError, BUCKET_LEAF, compareKeys, showKey } from "./layout.ts";
import type { Page, Pager } from "./page.ts";

/** bbolt trees are a few levels deep; a deeper one means pages that point in a loop. */
const MAX_DEPTH = 64;

interface Frame {
  page: Page;
  index: number;
}

/** A bucket's tree: a root page id, or the page stored inline in the bucket's value. */
export interface Tree {
  pager: Pager;
  root: number | Page;
  /** Names the bucket in errors. */
  name: string;
}

export class Cursor {
  #stack: Frame[] = [];
  /** The key of the current entry, kept to check that the next one sorts after it. */
  #last: Uint8Array | undefined;

  constructor(readonly tree: Tree) {}

  /** Moves to the first entry; false when the bucket is empty. */
  first(): boolean {
    this.#reset();
    this.#descendFirst();
    return this.#settle();
  }

  /** Moves to the first entry whose key is >= key; false when there is none. */
  seek(key: Uint8Array): boolean {
    this.#reset();
    let top = this.#stack[0];
    while (!top.page.isLeaf) {
      top.index = this.#search(top.page, key, true);
      top = this.#push(top.page.child(top.index), top);
    }
    top.index = this.#search(top.page, key, false);
    return this.#settle();
  }

  /** Moves to the next entry; false past the last. */
  next(): boolean {
    const top = this.#stack.at(-1);
    if (!top) return false;
    top.index++;
    return this.#settle();
  }

  get key(): Uint8Array {
    this.#current();
    return this.#last!;
  }

  get value(): Uint8Array {
    const top = this.#current();
    return top.page.value(top.index);
  }

  /** True when the current entry is a nested bucket (its value is a bucket header). */
  get isBucket(): boolean {
    const top = this.#current();
    return (top.page.flags(top.index) & BUCKET_LEAF) !== 0;
  }

  #current(): Frame {
    const top = this.#stack.at(-1);
    if (!top || !top.page.isLeaf || top.index >= top.page.count) {
      throw new Error("bbolt: cursor is not on an entry");
    }
    return top;
  }

  #reset(): void {
    const { root, pager, name } = this.tree;
    const page = typeof root === "number" ? pager.page(root, `bucket ${name}`) : root;
    this.#stack = [{ page, index: 0 }];
    this.#last = undefined;
  }

  #push(id: number, parent: Frame): Frame {
    if (this.#stack.length >= MAX_DEPTH) {
      throw new BboltError(
        `bbolt: bucket ${this.tree.name}: tree deeper than ${MAX_DEPTH} ` +
          `levels at ${parent.page.where} (pages pointing in a loop?)`,
      );
    }
    const page = this.tree.pager.page(id, `${parent.page.where} element ${parent.index}`);
    const frame = { page, index: 0 };
    this.#stack.push(frame);
    return frame;
  }

  /** Follows the current frame's element down to a leaf, taking the first child each time. */
  #descendFirst(): void {
    let top = this.#stack.at(-1)!;
    while (!top.page.isLeaf) {
      if (top.page.count === 0) {
        throw new BboltError(`bbolt: ${top.page.where}: branch page with no elements`);
      }
      top = this.#push(top.page.child(top.index), top);
    }
  }

  /**
   * Leaves the cursor on an entry: if the leaf is used up, climbs to the nearest branch with a
   * next child and descends from there. Checks that keys ascend, since bbolt's searches rely on
   * it and data pages carry no checksum.
   */
  #settle(): boolean {
    for (;;) {
      const top = this.#stack.at(-1)!;
      if (top.index < top.page.count) break;
      this.#stack.pop();
      const parent = this.#stack.at(-1);
      if (!parent) return false;
      parent.index++;
      if (parent.index < parent.page.count) this.#descendFirst();
    }
    const top = this.#stack.at(-1)!;
    const key = top.page.key(top.index);
    if (this.#last && compareKeys(this.#last, key) >= 0) {
      throw new BboltError(
        `bbolt: ${this.#stack.at(-1)!.page.where}: key ${showKey(key)} ` +
          `follows ${showKey(this.#last)}: keys out of order`,
      );
    }
    this.#last = key;
    return true;
  }

  /** The first index whose key is >= key; on a branch, the child that may hold key. */
  #search(page: Page, key: Uint8Array, branch: boolean): number {
    if (branch && page.count === 0) {
      throw new BboltError(`bbolt: ${page.where}: branch page with no elements`);
    }
    let lo = 0;
    let hi = page.count;
    let exact = false;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = page.compareKey(mid, key);
      if (c < 0) lo = mid + 1;
      else {
        if (c === 0) exact = true;
        hi = mid;
      }
    }
    return branch && !exact && lo > 0 ? lo - 1 : lo;
  }
}
