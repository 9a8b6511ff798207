// Sinks for DbWriter: an open file, or memory for small databases.
import type { Sink } from "./writer.ts";

/** Writes into an open file (created or truncated by the caller); the caller closes it. */
export function fileSink(file: Deno.FsFile): Sink {
  return {
    async write(position, bytes) {
      await file.seek(position, Deno.SeekMode.Start);
      for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
    },
  };
}

/** Collects the file in memory; bytes() assembles it once the writer has finished. */
export class MemorySink implements Sink {
  #chunks: { position: number; bytes: Uint8Array }[] = [];

  write(position: number, bytes: Uint8Array): void {
    this.#chunks.push({ position, bytes });
  }

  bytes(): Uint8Array {
    const size = Math.max(0, ...this.#chunks.map((c) => c.position + c.bytes.length));
    const out = new Uint8Array(size);
    for (const c of this.#chunks) out.set(c.bytes, c.position);
    return out;
  }
}
