// Where a reader's bytes come from: a Uint8Array already in memory, or a file read a page at a
// time, so that a database of any size costs the reader only the pages it is looking at.

export interface ByteSource {
  /** Bytes in the file. */
  readonly size: number;
  /** True when read() returns views of one long-lived buffer, so caching pages gains nothing. */
  readonly inMemory: boolean;
  /** Exactly `length` bytes from `position`; the caller has checked the range against size. */
  read(position: number, length: number): Uint8Array;
  close(): void;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    inMemory: true,
    read: (position, length) => bytes.subarray(position, position + length),
    close: () => {},
  };
}

/** Bytes read at once when reads run in file order (a cursor walking leaves written in order). */
const READ_AHEAD = 256 << 10;

/**
 * Reads an open file on demand. Reads are synchronous: a page comes from the OS cache in
 * microseconds, and a synchronous cursor lets callers walk millions of keys without a promise
 * per key (they can still yield to the event loop between batches). A read that starts where
 * the previous one ended fetches READ_AHEAD bytes and serves the following pages from them.
 */
export function fileSource(file: Deno.FsFile): ByteSource {
  const size = file.statSync().size;
  let block = new Uint8Array(0);
  let blockStart = 0;
  let lastEnd = -1;
  // Random reads are carved out of shared slabs: one allocation per READ_AHEAD bytes, not one
  // per page (a slab lives while any page cut from it does).
  let slab = new Uint8Array(0);
  let slabUsed = 0;
  const readExact = (position: number, length: number) => {
    if (slabUsed + length > slab.length) {
      slab = new Uint8Array(Math.max(READ_AHEAD, length));
      slabUsed = 0;
    }
    const buf = slab.subarray(slabUsed, slabUsed + length);
    slabUsed += length;
    file.seekSync(position, Deno.SeekMode.Start);
    for (let done = 0; done < length;) {
      const n = file.readSync(buf.subarray(done));
      if (n === null || n === 0) {
        throw new Error(`bbolt: file ended at byte ${position + done}, expected ${size} bytes`);
      }
      done += n;
    }
    return buf;
  };
  return {
    size,
    inMemory: false,
    read(position, length) {
      const sequential = position === lastEnd;
      lastEnd = position + length;
      const at = position - blockStart;
      if (at >= 0 && at + length <= block.length) return block.subarray(at, at + length);
      if (!sequential || length >= READ_AHEAD) return readExact(position, length);
      block = readExact(position, Math.min(READ_AHEAD, size - position));
      blockStart = position;
      return block.subarray(0, length);
    },
    close: () => file.close(),
  };
}
