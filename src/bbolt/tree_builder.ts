// Building one bucket's B+tree from keys that arrive in order, bottom-up: the open leaf takes
// elements until the next would pass the fill threshold, is written, and hands its first key
// and page id to the level above, which fills and is written the same way. Only one open page
// per level is held, so memory stays a few pages whatever the bucket's size. The last page of a
// level may be under-full, a state bbolt's own pages reach after deletes and read as any other.
import {
  compareKeys,
  MAX_ELEMENTS,
  MIN_KEYS_PER_PAGE,
  PAGE_HEADER_SIZE,
  showKey,
} from "./layout.ts";
import { type Element, elementSize, encodePage } from "./page_encode.ts";

/** Where finished pages go: assigns them the next free page ids and writes them. */
export interface PageOut {
  /** Writes a page of `size` encoded bytes (before rounding to whole pages); returns its id. */
  writePage(leaf: boolean, elements: readonly Element[], size: number): number;
}

interface Level {
  elements: Element[];
  size: number;
}

const NO_VALUE = new Uint8Array(0);

function newLevel(): Level {
  return { elements: [], size: PAGE_HEADER_SIZE };
}

/** A finished bucket: the page id of its root, or its only leaf page to store inline. */
export type BuiltTree = { root: number } | { inline: Uint8Array };

export class TreeBuilder {
  #levels: Level[] = [newLevel()];
  #last: Uint8Array | undefined;
  #hasBuckets = false;

  /** `threshold`: bytes a page is filled to before the next is begun (fill percent x size);
   * `path` names the bucket in errors ("" for the root). */
  constructor(readonly out: PageOut, readonly threshold: number, readonly path: string) {}

  /** Throws unless key sorts after every key added so far. */
  checkNext(key: Uint8Array): void {
    if (this.#last && compareKeys(this.#last, key) >= 0) {
      throw new RangeError(
        `bbolt: bucket ${this.path}: key ${showKey(key)} after ` +
          `${showKey(this.#last)}: keys must arrive in ascending order, each once`,
      );
    }
  }

  add(key: Uint8Array, value: Uint8Array, flags: number, isBucket: boolean): void {
    this.checkNext(key);
    this.#last = key;
    if (isBucket) this.#hasBuckets = true;
    this.#push(0, { key, value, flags, child: 0 });
  }

  #push(level: number, e: Element): void {
    const lv = this.#levels[level];
    const size = elementSize(e, level === 0);
    const n = lv.elements.length;
    if (n >= MAX_ELEMENTS || (n >= MIN_KEYS_PER_PAGE && lv.size + size > this.threshold)) {
      this.#write(level);
    }
    lv.elements.push(e);
    lv.size += size;
  }

  /** Writes the open page of a level and passes its first key up to the level above. */
  #write(level: number): void {
    const lv = this.#levels[level];
    if (lv.elements.length === 0) throw new Error("bbolt: writing an empty non-root page");
    const id = this.out.writePage(level === 0, lv.elements, lv.size);
    const first = lv.elements[0].key;
    lv.elements = [];
    lv.size = PAGE_HEADER_SIZE;
    if (level + 1 === this.#levels.length) this.#levels.push(newLevel());
    this.#push(level + 1, { key: first, value: NO_VALUE, flags: 0, child: id });
  }

  /**
   * Writes the open pages bottom-up; the top level, which never filled a page, is the root.
   * A bucket whose single leaf holds no nested bucket and fits in `inlineLimit` bytes is
   * returned inline instead, as bbolt stores small buckets.
   */
  finish(inlineLimit: number): BuiltTree {
    for (let level = 0;; level++) {
      const lv = this.#levels[level];
      if (level < this.#levels.length - 1) {
        this.#write(level);
        continue;
      }
      if (level === 0 && !this.#hasBuckets && lv.size <= inlineLimit) {
        const page = new Uint8Array(lv.size);
        encodePage(page, 0, 0, true, lv.elements);
        return { inline: page };
      }
      return { root: this.out.writePage(level === 0, lv.elements, lv.size) };
    }
  }
}
