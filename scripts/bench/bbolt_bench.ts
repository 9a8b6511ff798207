// Throughput and peak memory of src/bbolt on a large file: streaming a database of etcd-like
// revisions to disk, walking it back from disk a page at a time, and random gets. Each phase
// runs in its own process so its peak RSS (VmHWM) is its own; an idle process gives the base.
// deno run -A scripts/bench/bbolt_bench.ts [megabytes=200] [value bytes=1024]

import { DbWriter, fileSink, openDbFile } from "../../src/bbolt/mod.ts";
import { peakRssBytes } from "./procstat.ts";

const [mode, ...rest] = Deno.args;
const PHASES = ["idle", "write", "read", "get"] as const;

function revision(i: number): Uint8Array {
  // etcd's key bucket: 8-byte big-endian main revision, '_', 8-byte sub revision.
  const k = new Uint8Array(17);
  new DataView(k.buffer).setBigUint64(0, BigInt(i + 2));
  k[8] = 0x5f;
  return k;
}

async function write(path: string, count: number, valueBytes: number): Promise<number> {
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const w = new DbWriter(fileSink(file));
  const value = new Uint8Array(valueBytes);
  w.beginBucket("key");
  for (let i = 0; i < count; i++) {
    value.fill(i & 0xff, 0, 8);
    await w.put(revision(i), value);
  }
  await w.endBucket();
  await w.finish();
  file.close();
  return count * (17 + valueBytes);
}

function read(path: string, count: number): number {
  const db = openDbFile(path);
  let n = 0;
  let bytes = 0;
  for (const [k, v] of db.bucket("key")!.entries()) {
    n++;
    bytes += k.length + v.length;
  }
  db.close();
  if (n !== count) throw new Error(`read ${n} keys, wrote ${count}`);
  return bytes;
}

function gets(path: string, count: number, lookups: number): void {
  const db = openDbFile(path);
  const b = db.bucket("key")!;
  let seed = 12345;
  for (let i = 0; i < lookups; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    if (!b.get(revision(seed % count))) throw new Error("missing key");
  }
  db.close();
}

/** One phase, in this process: prints seconds, bytes and peak RSS as JSON. */
async function phase(name: string, path: string, count: number, valueBytes: number) {
  const start = performance.now();
  let bytes = 0;
  if (name === "write") bytes = await write(path, count, valueBytes);
  if (name === "read") bytes = read(path, count);
  if (name === "get") gets(path, count, 100_000);
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ seconds, bytes, rss: peakRssBytes(Deno.pid) }));
}

async function main() {
  const mb = Number(Deno.args[0] ?? 200);
  const valueBytes = Number(Deno.args[1] ?? 1024);
  const count = Math.ceil((mb << 20) / (valueBytes + 17));
  const dir = Deno.makeTempDirSync({ prefix: "bbolt-bench-" });
  const path = `${dir}/bench.db`;
  console.log(`${count} keys of 17 bytes with ${valueBytes}-byte values (~${mb} MB)`);
  try {
    for (const name of PHASES) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", import.meta.filename!, name, path, String(count), String(valueBytes)],
        stderr: "inherit",
      }).output();
      if (!out.success) throw new Error(`phase ${name} failed`);
      const r = JSON.parse(new TextDecoder().decode(out.stdout));
      const rate = r.bytes ? `${(r.bytes / 2 ** 20 / r.seconds).toFixed(0)} MB/s` : "";
      const extra = name === "get" ? `${(100_000 / r.seconds / 1000).toFixed(0)}k gets/s` : "";
      console.log(
        `${name.padEnd(6)} ${r.seconds.toFixed(2).padStart(6)} s  ${rate.padStart(9)}  ` +
          `peak RSS ${(r.rss / 2 ** 20).toFixed(0).padStart(4)} MB  ${extra}`,
      );
    }
    console.log(`file: ${(Deno.statSync(path).size / 2 ** 20).toFixed(0)} MB`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

if (mode && (PHASES as readonly string[]).includes(mode)) {
  await phase(mode, rest[0], Number(rest[1]), Number(rest[2]));
} else {
  await main();
}
