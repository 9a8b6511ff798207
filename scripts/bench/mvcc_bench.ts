// Store-only throughput: puts, point reads, range reads, txn-shaped put+range, on a file DB.
// deno run -A scripts/bench/mvcc_bench.ts [puts=200000] [batch=1000]
import { MvccStore } from "../../src/mvcc/mod.ts";

const N = Number(Deno.args[0] ?? 200_000);
const BATCH = Number(Deno.args[1] ?? 1000);
const KEYS = 10_000;
const dir = Deno.makeTempDirSync({ prefix: "mvcc-bench-" });
const store = new MvccStore(`${dir}/db`);
const enc = new TextEncoder();
const keys = Array.from(
  { length: KEYS },
  (_, i) => enc.encode(`key-${String(i).padStart(8, "0")}`),
);
const value = new Uint8Array(256).fill(7);

function rate(label: string, n: number, ms: number) {
  console.log(`${label.padEnd(34)} ${Math.round(n / (ms / 1000)).toLocaleString("en")}/s`);
}

let t = performance.now();
for (let i = 0; i < N; i++) {
  const txn = store.write();
  txn.put(keys[i % KEYS], value, 0n);
  txn.end();
  if (i % BATCH === BATCH - 1) {
    store.setConsistentIndex(i + 1);
    store.commit();
  }
}
store.commit();
rate(`put (256 B values, ${KEYS} keys)`, N, performance.now() - t);

t = performance.now();
for (let i = 0; i < N; i++) {
  const txn = store.write();
  txn.put(enc.encode(`new-${i}`), value, 0n);
  txn.end();
  if (i % BATCH === BATCH - 1) store.commit();
}
store.commit();
rate("put (new keys)", N, performance.now() - t);

const R = N;
t = performance.now();
for (let i = 0; i < R; i++) store.range(keys[(i * 7919) % KEYS]);
rate("range single key", R, performance.now() - t);

const prefix = enc.encode("key-0000");
const prefixEnd = enc.encode("key-0001");
t = performance.now();
for (let i = 0; i < R / 10; i++) store.range(prefix, prefixEnd, { limit: 10 });
rate("range prefix limit 10 (+count)", R / 10, performance.now() - t);

t = performance.now();
for (let i = 0; i < R / 10; i++) store.range(keys[i % KEYS], undefined, { rev: 5000 + i });
rate("range single key at old revision", R / 10, performance.now() - t);

t = performance.now();
const rev = store.rev();
await store.compact(rev - 1000);
store.commit();
rate("compaction (rows examined)", 2 * N, performance.now() - t);

console.log(`dbSize ${store.dbSize()} inUse ${store.dbSizeInUse()}`);
store.close();
Deno.removeSync(dir, { recursive: true });
