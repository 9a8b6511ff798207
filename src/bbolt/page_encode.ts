// Encoding leaf and branch pages as bbolt's node.write does: the page header, then every
// element's fixed-size header, then the keys (and values) back to back in element order. Each
// element's pos is the distance from that element's header to its key.
import {
  BRANCH_ELEMENT_SIZE,
  BRANCH_PAGE,
  LEAF_ELEMENT_SIZE,
  LEAF_PAGE,
  PAGE_HEADER_SIZE,
  view,
  writePageHeader,
} from "./layout.ts";

export interface Element {
  key: Uint8Array;
  /** Leaf: the value (a bucket header for nested buckets). Branch: unused. */
  value: Uint8Array;
  /** Leaf: element flags (BUCKET_LEAF). */
  flags: number;
  /** Branch: the child page id. */
  child: number;
}

/** Bytes a page of these elements occupies before rounding up to whole pages. */
export function elementSize(e: Element, leaf: boolean): number {
  return (leaf ? LEAF_ELEMENT_SIZE : BRANCH_ELEMENT_SIZE) + e.key.length +
    (leaf ? e.value.length : 0);
}

/**
 * Writes a page of `elements` into `out` (zeroed, at least `size` bytes), with header id and
 * overflow given. Used for whole pages and for a bucket's inline page (id 0, exact size).
 */
export function encodePage(
  out: Uint8Array,
  id: number,
  overflow: number,
  leaf: boolean,
  elements: readonly Element[],
): void {
  writePageHeader(out, {
    id,
    flags: leaf ? LEAF_PAGE : BRANCH_PAGE,
    count: elements.length,
    overflow,
  });
  const v = view(out);
  let data = PAGE_HEADER_SIZE + elements.length * LEAF_ELEMENT_SIZE;
  elements.forEach((e, i) => {
    const at = PAGE_HEADER_SIZE + i * LEAF_ELEMENT_SIZE;
    if (leaf) {
      v.setUint32(at, e.flags, true);
      v.setUint32(at + 4, data - at, true);
      v.setUint32(at + 8, e.key.length, true);
      v.setUint32(at + 12, e.value.length, true);
    } else {
      v.setUint32(at, data - at, true);
      v.setUint32(at + 4, e.key.length, true);
      v.setBigUint64(at + 8, BigInt(e.child), true);
    }
    out.set(e.key, data);
    data += e.key.length;
    if (leaf) {
      out.set(e.value, data);
      data += e.value.length;
    }
  });
}
