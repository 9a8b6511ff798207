// A min-heap of (lease ID, time) with lazy invalidation: re-scheduling a lease pushes a new
// entry and bumps the lease's ticket, so older entries are recognised as stale when popped.
// That keeps every update O(log n) without searching the heap.

export interface ExpiryEntry {
  id: bigint;
  at: number;
  ticket: number;
}

export class ExpiryQueue {
  #heap: ExpiryEntry[] = [];

  get size(): number {
    return this.#heap.length;
  }

  clear(): void {
    this.#heap = [];
  }

  push(entry: ExpiryEntry): void {
    const h = this.#heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  peek(): ExpiryEntry | undefined {
    return this.#heap[0];
  }

  /** Takes the earliest entry if it is due at `now`. */
  popDue(now: number): ExpiryEntry | undefined {
    const top = this.#heap[0];
    return top && top.at <= now ? this.pop() : undefined;
  }

  pop(): ExpiryEntry | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

// Ties broken by ID so the order of equal expiries does not depend on insertion order.
function before(a: ExpiryEntry, b: ExpiryEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}
