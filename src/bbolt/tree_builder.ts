// Building one bucket's B+tree from keys that arrive in order, bottom-up: the open leaf takes
// elements until the next would pass the fill threshold, is written, and hands its first key
// and page id to the level above, which fills and is written the same way. Only one open page
// per level is held, so memory stays a few pages whatever the bucket's size. The last page of a
// level may be under-full, a state bbolt's own pages reach after deletes and read as any other.
import { compareKeys, MAX_ELEMENTS, MIN_KEYS_PER_PAGE, showKey } from "./layout.ts";
import { PendingPage } from "./pending_page.ts";

/** Where finished pages go: assigns them the next free page ids and writes them. */
export interface PageOut {
  readonly pageSize: number;
  /** Writes the page, rounded up to whole pages; returns its id. */
  writePage(page: PendingPage): number;
}

/** A finished bucket: the page id of its root, or its only leaf page to store inline. */
export type BuiltTree = { root: number } | { inline: Uint8Array };

const NO_VALUE = new Uint8Array(0);

export class TreeBuilder {
  /** The open page of each level, leaves first. */
  #levels: PendingPage[];
  #last: Uint8Array | undefined;
  #hasBuckets = false;

  /**
   * `threshold`: bytes a page is filled to before the next is begun (fill percent x size);
   * `path` names the bucket in errors ("" for the root).
   */
  constructor(readonly out: PageOut, readonly threshold: number, readonly path: string) {
    this.#levels = [new PendingPage(true, out.pageSize)];
  }

  /** Throws unless key sorts after every key added so far. */
  checkNext(key: Uint8Array): void {
    const leaf = this.#levels[0];
    // The last key is in the open leaf, or, just after a leaf was written, kept aside.
    const order = leaf.count > 0
      ? leaf.compareLast(key)
      : this.#last
      ? compareKeys(this.#last, key)
      : -1;
    if (order >= 0) {
      const last = leaf.count > 0 ? leaf.lastKey() : this.#last!;
      const where = this.path === "" ? "top level" : `bucket ${this.path}`;
      throw new RangeError(
        `bbolt: ${where}: key ${showKey(key)} after ${showKey(last)}: ` +
          `keys must arrive in ascending order, each once`,
      );
    }
  }

  /** Adds a leaf element; key and value are copied. */
  add(key: Uint8Array, value: Uint8Array, flags: number, isBucket: boolean): void {
    this.checkNext(key);
    if (isBucket) this.#hasBuckets = true;
    this.#push(0, key, value, flags, 0);
  }

  #push(level: number, key: Uint8Array, value: Uint8Array, flags: number, child: number): void {
    const page = this.#levels[level];
    const n = page.count;
    const full = n >= MIN_KEYS_PER_PAGE &&
      page.size + page.elementSize(key, value) > this.threshold;
    if (n >= MAX_ELEMENTS || full) this.#write(level);
    page.add(key, value, flags, child);
  }

  /** Writes the open page of a level and passes its first key up to the level above. */
  #write(level: number): void {
    const page = this.#levels[level];
    if (page.count === 0) throw new Error("bbolt: writing an empty non-root page");
    const id = this.out.writePage(page);
    if (level + 1 === this.#levels.length) {
      this.#levels.push(new PendingPage(false, this.out.pageSize));
    }
    this.#push(level + 1, page.firstKey(), NO_VALUE, 0, id);
    if (level === 0) this.#last = page.lastKey();
    page.clear();
  }

  /**
   * Writes the open pages bottom-up; the top level, which never filled a page, is the root.
   * A bucket whose single leaf holds no nested bucket and fits in `inlineLimit` bytes is
   * returned inline instead, as bbolt stores small buckets.
   */
  finish(inlineLimit: number): BuiltTree {
    for (let level = 0;; level++) {
      const page = this.#levels[level];
      if (level < this.#levels.length - 1) {
        this.#write(level);
        continue;
      }
      if (level === 0 && !this.#hasBuckets && page.size <= inlineLimit) {
        const inline = new Uint8Array(page.size);
        page.encode(inline, 0, 0);
        return { inline };
      }
      return { root: this.out.writePage(page) };
    }
  }
}
