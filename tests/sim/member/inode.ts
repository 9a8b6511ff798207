// A simulated file's contents: what the process sees (the page cache) and what survives a
// power cut (what fsync made durable), with the range written in between.

const SECTOR = 512;

/** A file's contents: what the process sees, and what survives a power cut. */
export class Inode {
  buf = new Uint8Array(0);
  size = 0;
  durable = new Uint8Array(0);
  durableSize = 0;
  /** Written since the last fsync: [dirtyFrom, dirtyTo) may differ from `durable`. */
  dirtyFrom = Infinity;
  dirtyTo = 0;

  write(at: number, p: Uint8Array): void {
    const end = at + p.length;
    this.buf = room(this.buf, this.size, end);
    if (at > this.size) this.buf.fill(0, this.size, at);
    this.buf.set(p, at);
    this.size = Math.max(this.size, end);
    this.#dirty(at, end);
  }

  truncate(): void {
    this.#dirty(0, Math.max(this.size, this.durableSize));
    this.size = 0;
  }

  #dirty(from: number, to: number): void {
    this.dirtyFrom = Math.min(this.dirtyFrom, from);
    this.dirtyTo = Math.max(this.dirtyTo, to);
  }

  get unsynced(): boolean {
    return this.dirtyFrom < this.dirtyTo;
  }

  /** fsync: the written range reaches the disk (only it is copied: files are preallocated). */
  sync(): void {
    if (!this.unsynced) return;
    const from = Math.min(this.dirtyFrom, this.size), to = Math.min(this.dirtyTo, this.size);
    this.durable = room(this.durable, this.durableSize, this.size);
    if (this.size > this.durableSize) this.durable.fill(0, this.durableSize, this.size);
    this.durable.set(this.buf.subarray(from, to), from);
    this.durableSize = this.size;
    this.dirtyFrom = Infinity;
    this.dirtyTo = 0;
  }

  /** The unsynced bytes are lost; `keepSectors` says which of their sectors reached the disk. */
  lose(keepSectors: (count: number) => boolean[]): void {
    if (this.unsynced) {
      const from = this.dirtyFrom, to = Math.min(this.dirtyTo, this.size);
      const first = Math.floor(from / SECTOR);
      const kept = keepSectors(Math.max(0, Math.ceil(to / SECTOR) - first));
      kept.forEach((keep, i) => {
        if (!keep) return;
        const lo = Math.max(from, (first + i) * SECTOR),
          hi = Math.min(to, (first + i + 1) * SECTOR);
        this.durable = room(this.durable, this.durableSize, hi);
        if (lo > this.durableSize) this.durable.fill(0, this.durableSize, lo);
        this.durable.set(this.buf.subarray(lo, hi), lo);
        this.durableSize = Math.max(this.durableSize, hi);
      });
    }
    this.buf = room(this.buf, 0, this.durableSize);
    this.buf.set(this.durable.subarray(0, this.durableSize));
    this.size = this.durableSize;
    this.dirtyFrom = Infinity;
    this.dirtyTo = 0;
  }
}

/** `buf` with room for `end` bytes, its first `used` kept (grown by doubling). */
function room(buf: Uint8Array<ArrayBuffer>, used: number, end: number): Uint8Array<ArrayBuffer> {
  if (end <= buf.length) return buf;
  const grown = new Uint8Array(Math.max(end, buf.length * 2, 4096));
  grown.set(buf.subarray(0, used));
  return grown;
}
