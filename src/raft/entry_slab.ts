// Where the in-memory log keeps its entries' data. An entry stays in the log until a snapshot
// lets it go (--snapshot-count entries, 100,000 by default), long enough for V8 to move it to
// the old generation; had each entry its own ArrayBuffer, every log compaction would leave
// V8 that many backing stores to free at once, and the next collection waits for that (tens
// of milliseconds at 100,000). Copied into shared slabs, the data of a few hundred entries is
// one ArrayBuffer. Entries leave the log in index order, so slabs are freed in order too.

/** Bytes per slab. */
const SLAB_BYTES = 256 * 1024;
/** Data larger than this keeps its own buffer: it would waste most of a slab's tail. */
const MAX_SLABBED = 16 * 1024;

export class EntrySlab {
  #slab = new Uint8Array(0);
  #used = 0;

  /** `data`'s bytes in a slab (or `data` itself when large or empty). */
  copy(data: Uint8Array): Uint8Array {
    const n = data.length;
    if (n === 0 || n > MAX_SLABBED) return data;
    if (this.#used + n > this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#used = 0;
    }
    const out = this.#slab.subarray(this.#used, this.#used + n);
    out.set(data);
    this.#used += n;
    return out;
  }
}
