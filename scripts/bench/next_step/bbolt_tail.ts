// A B+tree in bbolt's page format that only grows at its right edge, as etcd's key bucket does
// (its keys are revisions): the prototype behind bbolt_append.ts. Each level holds one open
// page; a page that fills is written once, for good, and its first key goes up a level. A commit
// writes the open pages too — the rightmost path — to fresh pages (copy-on-write: the previous
// commit's path stays intact until the new meta is durable, and is freed after it).
import {
  BRANCH_PAGE,
  LEAF_ELEMENT_SIZE,
  LEAF_PAGE,
  PAGE_HEADER_SIZE,
  view,
  writePageHeader,
} from "../../../src/bbolt/layout.ts";

export const PAGE = 4096;

export class OpenPage {
  keys: Uint8Array[] = [];
  values: Uint8Array[] = []; // leaf
  flags: number[] = []; // leaf
  children: number[] = []; // branch
  size = PAGE_HEADER_SIZE;

  constructor(readonly leaf: boolean) {}

  fits(key: Uint8Array, value: Uint8Array | undefined): boolean {
    const add = LEAF_ELEMENT_SIZE + key.length + (value?.length ?? 0);
    return this.keys.length < 2 || this.size + add <= PAGE;
  }

  add(key: Uint8Array, value: Uint8Array | undefined, child: number, flags = 0): void {
    this.keys.push(key);
    if (this.leaf) {
      this.values.push(value!);
      this.flags.push(flags);
    } else this.children.push(child);
    this.size += LEAF_ELEMENT_SIZE + key.length + (value?.length ?? 0);
  }

  /** The page as bytes at `id`, with one more child when `extra` is given (branches). */
  encode(id: number, extra?: { key: Uint8Array; child: number }): Uint8Array {
    const keys = extra ? [...this.keys, extra.key] : this.keys;
    const children = extra ? [...this.children, extra.child] : this.children;
    const size = this.size + (extra ? LEAF_ELEMENT_SIZE + extra.key.length : 0);
    const pages = Math.ceil(size / PAGE);
    const out = new Uint8Array(pages * PAGE);
    const flags = this.leaf ? LEAF_PAGE : BRANCH_PAGE;
    writePageHeader(out, { id, flags, count: keys.length, overflow: pages - 1 });
    const v = view(out);
    let data = PAGE_HEADER_SIZE + keys.length * LEAF_ELEMENT_SIZE;
    for (let i = 0, at = PAGE_HEADER_SIZE; i < keys.length; i++, at += LEAF_ELEMENT_SIZE) {
      const k = keys[i];
      if (this.leaf) {
        v.setUint32(at, this.flags[i], true);
        v.setUint32(at + 4, data - at, true);
        v.setUint32(at + 8, k.length, true);
        v.setUint32(at + 12, this.values[i].length, true);
        out.set(k, data);
        out.set(this.values[i], data + k.length);
        data += k.length + this.values[i].length;
      } else {
        v.setUint32(at, data - at, true);
        v.setUint32(at + 4, k.length, true);
        v.setBigUint64(at + 8, BigInt(children[i]), true);
        out.set(k, data);
        data += k.length;
      }
    }
    return out;
  }
}

/** Pages to write at a commit, by page id. */
export type Dirty = Map<number, Uint8Array>;

export class TailTree {
  #levels = [new OpenPage(true)];
  constructor(private readonly alloc: (pages: number) => number, private readonly dirty: Dirty) {}

  put(key: Uint8Array, value: Uint8Array): void {
    this.#push(0, key, value, 0);
  }

  #push(level: number, key: Uint8Array, value: Uint8Array | undefined, child: number): void {
    const page = this.#levels[level];
    if (!page.fits(key, value)) {
      // Full: written for good; its first key goes to the level above.
      const id = this.alloc(Math.ceil(page.size / PAGE));
      this.dirty.set(id, page.encode(id));
      if (level + 1 === this.#levels.length) this.#levels.push(new OpenPage(false));
      this.#push(level + 1, page.keys[0], undefined, id);
      this.#levels[level] = new OpenPage(page.leaf);
    }
    this.#levels[level].add(key, value, child);
  }

  /** Writes the rightmost path to fresh pages; returns the root and every page it took. */
  commitPath(): { root: number; path: number[] } {
    const path: number[] = [];
    let below: { key: Uint8Array; child: number } | undefined;
    for (let level = 0; level < this.#levels.length; level++) {
      const page = this.#levels[level];
      if (page.keys.length === 0 && below !== undefined && level === this.#levels.length - 1) {
        break; // an empty top adds nothing: the page below is the root
      }
      const size = page.size + (below ? LEAF_ELEMENT_SIZE + below.key.length : 0);
      const pages = Math.ceil(size / PAGE);
      const id = this.alloc(pages);
      this.dirty.set(id, page.encode(id, below));
      for (let p = 0; p < pages; p++) path.push(id + p);
      below = { key: page.keys[0] ?? below!.key, child: id };
    }
    return { root: below!.child, path };
  }
}
