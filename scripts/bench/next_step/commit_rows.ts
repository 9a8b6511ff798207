// Rows packed for the Worker of commit_worker.ts (one buffer per batch, transferred whole), and
// per-thread CPU time.

/** `rev` rows back to back: id, main, create, version as float64, key and value lengths, bytes. */
export class RowBatch {
  #bytes = new Uint8Array(1 << 20);
  #view = new DataView(this.#bytes.buffer);
  #length = 0;

  add(
    id: number,
    main: number,
    key: Uint8Array,
    created: number,
    version: number,
    value: Uint8Array,
  ) {
    const need = this.#length + 40 + key.length + value.length;
    if (need > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.#bytes.length * 2));
      grown.set(this.#bytes.subarray(0, this.#length));
      [this.#bytes, this.#view] = [grown, new DataView(grown.buffer)];
    }
    const v = this.#view, at = this.#length;
    v.setFloat64(at, id);
    v.setFloat64(at + 8, main);
    v.setFloat64(at + 16, created);
    v.setFloat64(at + 24, version);
    v.setUint32(at + 32, key.length);
    v.setUint32(at + 36, value.length);
    this.#bytes.set(key, at + 40);
    this.#bytes.set(value, at + 40 + key.length);
    this.#length = need;
  }

  /** The rows so far, as an ArrayBuffer to transfer; the batch starts over. */
  take(): ArrayBuffer {
    const out = this.#bytes.buffer.slice(0, this.#length);
    this.#length = 0;
    return out;
  }
}

export function* unpackRows(buffer: ArrayBuffer) {
  const bytes = new Uint8Array(buffer), v = new DataView(buffer);
  for (let at = 0; at < bytes.length;) {
    const keyLength = v.getUint32(at + 32), valueLength = v.getUint32(at + 36);
    const key = bytes.subarray(at + 40, at + 40 + keyLength);
    yield {
      id: v.getFloat64(at),
      main: v.getFloat64(at + 8),
      created: v.getFloat64(at + 16),
      version: v.getFloat64(at + 24),
      key,
      value: bytes.subarray(at + 40 + keyLength, at + 40 + keyLength + valueLength),
    };
    at += 40 + keyLength + valueLength;
  }
}

/** CPU seconds (user + system) of the calling thread. */
export function threadCpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/thread-self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
