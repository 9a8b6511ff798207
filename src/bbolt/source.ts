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

/**
 * Reads an open file on demand. Reads are synchronous: a page comes from the OS cache in
 * microseconds, and a synchronous cursor lets callers walk millions of keys without a promise
 * per key (they can still yield to the event loop between batches).
 */
export function fileSource(file: Deno.FsFile): ByteSource {
  const size = file.statSync().size;
  return {
    size,
    inMemory: false,
    read(position, length) {
      const buf = new Uint8Array(length);
      file.seekSync(position, Deno.SeekMode.Start);
      let done = 0;
      while (done < length) {
        const n = file.readSync(buf.subarray(done));
        if (n === null || n === 0) {
          throw new Error(`bbolt: file ended at byte ${position + done}, expected ${size} bytes`);
        }
        done += n;
      }
      return buf;
    },
    close: () => file.close(),
  };
}
