// Micro benchmark (not a test): fsync'd WAL appends per second on this disk.
//   deno run -A tests/storage/fsync_bench.ts [seconds per case] [dir]
// The directory defaults to a temporary one; pass a path on the disk the server will use.

import type { Entry } from "../../src/raft/mod.ts";
import { createWal } from "../../src/storage/mod.ts";

const seconds = Number(Deno.args[0] ?? 3);
const base = Deno.args[1] ?? (await Deno.makeTempDir({ prefix: "etcd-ts-fsync-bench-" }));

function batch(first: number, n: number, size: number): Entry[] {
  const data = new Uint8Array(size).fill(0x61);
  return Array.from({ length: n }, (_, i) => ({ index: first + i, term: 1, type: 0, data }));
}

async function walCase(name: string, perSave: number, valueSize: number) {
  const dir = `${base}/${name}`;
  const wal = await createWal(dir, new Uint8Array(16));
  let index = 1;
  let saves = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    await wal.save(
      { term: 1, vote: 1n, commit: index - 1 },
      batch(index, perSave, valueSize),
      true,
    );
    index += perSave;
    saves++;
  }
  const dt = (performance.now() - t0) / 1000;
  await wal.close();
  await Deno.remove(dir, { recursive: true });
  console.log(
    `${name.padEnd(28)} ${(saves / dt).toFixed(0).padStart(7)} fsync'd saves/s ` +
      `${((index - 1) / dt).toFixed(0).padStart(9)} entries/s ` +
      `${(1000 * dt / saves).toFixed(3)} ms/save`,
  );
}

/** The floor: a bare 64-byte write + fdatasync on a plain file, no WAL code. */
async function rawCase() {
  const f = await Deno.open(`${base}/raw`, { create: true, append: true });
  const buf = new Uint8Array(64);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    await f.write(buf);
    await f.syncData();
    n++;
  }
  const dt = (performance.now() - t0) / 1000;
  f.close();
  await Deno.remove(`${base}/raw`);
  console.log(`${"raw write+fdatasync".padEnd(28)} ${(n / dt).toFixed(0).padStart(7)} /s`);
}

console.log(`directory ${base}, ${seconds} s per case`);
await rawCase();
await walCase("1 entry x 100 B per save", 1, 100);
await walCase("100 entries x 100 B per save", 100, 100);
await walCase("1000 entries x 256 B", 1000, 256);
if (Deno.args[1] === undefined) await Deno.remove(base, { recursive: true });
