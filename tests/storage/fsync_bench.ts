// Micro benchmark (not a test): fsync'd WAL saves per second on this disk.
//   deno run -A tests/storage/fsync_bench.ts [seconds per case] [dir]
// The directory defaults to a temporary one; pass a path on the disk the server will use
// (not tmpfs, where fdatasync costs nothing). Each WAL case first saves for a warm-up second,
// so that the figures are those of a log in steady state, segment rollovers included.

import type { Entry } from "../../src/raft/mod.ts";
import { createWal } from "../../src/storage/mod.ts";

const seconds = Number(Deno.args[0] ?? 3);
const base = Deno.args[1] ?? (await Deno.makeTempDir({ prefix: "etcd-ts-fsync-bench-" }));
await Deno.mkdir(base, { recursive: true });

function batch(first: number, n: number, size: number): Entry[] {
  const data = new Uint8Array(size).fill(0x61);
  return Array.from({ length: n }, (_, i) => ({ index: first + i, term: 1, type: 0, data }));
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function report(name: string, lat: number[], dt: number, extra = "") {
  lat.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(30)} ${(lat.length / dt).toFixed(0).padStart(6)} /s  ` +
      `median ${quantile(lat, 0.5).toFixed(2).padStart(6)} ms  ` +
      `p99 ${quantile(lat, 0.99).toFixed(2).padStart(6)} ms${extra}`,
  );
}

async function walCase(name: string, perSave: number, valueSize: number) {
  const dir = `${base}/${name.replaceAll(/\W+/g, "-")}`;
  const t = performance.now();
  const wal = await createWal(dir, new Uint8Array(16));
  const createMs = performance.now() - t;
  let index = 1;
  const save = async () => {
    const t0 = performance.now();
    await wal.save(
      { term: 1, vote: 1n, commit: index - 1 },
      batch(index, perSave, valueSize),
      true,
    );
    index += perSave;
    return performance.now() - t0;
  };
  const warm = performance.now() + 1000;
  while (performance.now() < warm) await save();
  const first = index;
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) lat.push(await save());
  const dt = (performance.now() - t0) / 1000;
  await wal.close();
  const segments = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".wal")).length;
  await Deno.remove(dir, { recursive: true });
  report(
    name,
    lat,
    dt,
    `  ${((index - first) / dt).toFixed(0).padStart(7)} entries/s  ` +
      `createWal ${createMs.toFixed(0)} ms  ${segments} segments`,
  );
}

/** The floors: a bare 4 KiB write + fdatasync on a plain file, no WAL code, either growing
 * the file or overwriting a region zero-filled and synced beforehand. */
async function rawCase(overwrite: boolean) {
  const path = `${base}/raw`;
  const f = await Deno.open(path, { create: true, write: true, truncate: true });
  const buf = new Uint8Array(4096).fill(1);
  if (overwrite) {
    const zeros = new Uint8Array(1 << 20);
    for (let i = 0; i < 64; i++) await f.write(zeros);
    await f.syncData();
    await f.seek(0, Deno.SeekMode.Start);
  }
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    const t = performance.now();
    await f.write(buf);
    await f.syncData();
    lat.push(performance.now() - t);
  }
  const dt = (performance.now() - t0) / 1000;
  f.close();
  await Deno.remove(path);
  report(overwrite ? "raw 4 KiB overwrite+fdatasync" : "raw 4 KiB append+fdatasync", lat, dt);
}

console.log(`directory ${base}, ${seconds} s per case`);
await rawCase(false);
await rawCase(true);
await walCase("1 entry x 100 B per save", 1, 100);
await walCase("64 entries x 100 B per save", 64, 100);
await walCase("1000 entries x 256 B per save", 1000, 256);
if (Deno.args[1] === undefined) await Deno.remove(base, { recursive: true });
