// Rows packed for the Worker of commit_worker.ts, and per-thread CPU time.

/** One `rev` row as bytes: id, main, create, version as float64, key and value lengths, bytes. */
export function packRow(
  id: number,
  main: number,
  key: Uint8Array,
  created: number,
  version: number,
  value: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(40 + key.length + value.length);
  const v = new DataView(out.buffer);
  v.setFloat64(0, id);
  v.setFloat64(8, main);
  v.setFloat64(16, created);
  v.setFloat64(24, version);
  v.setUint32(32, key.length);
  v.setUint32(36, value.length);
  out.set(key, 40);
  out.set(value, 40 + key.length);
  return out;
}

export function unpackRow(row: Uint8Array) {
  const v = new DataView(row.buffer, row.byteOffset, row.byteLength);
  const keyLength = v.getUint32(32);
  return {
    id: v.getFloat64(0),
    main: v.getFloat64(8),
    created: v.getFloat64(16),
    version: v.getFloat64(24),
    key: row.subarray(40, 40 + keyLength),
    value: row.subarray(40 + keyLength),
  };
}

/** CPU seconds (user + system) of the calling thread. */
export function threadCpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/thread-self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
