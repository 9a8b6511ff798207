// Store-only throughput: puts, point reads, range reads, txn-shaped put+range, on a file DB.
// deno run -A scripts/bench/mvcc_bench.ts [puts=200000] [batch=1000]
import process from "node:process";
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

// The machine is shared: report per CPU-second of this process as well as per wall second.
let cpu0 = process.cpuUsage();
function rate(label: string, n: number, ms: number) {
  const c = process.cpuUsage(cpu0);
  const cpuS = (c.user + c.system) / 1e6;
  const fmt = (x: number) => Math.round(x).toLocaleString("en").padStart(9);
  console.log(`${label.padEnd(36)} ${fmt(n / (ms / 1000))}/s wall ${fmt(n / cpuS)}/s cpu`);
  cpu0 = process.cpuUsage();
}

cpu0 = process.cpuUsage();
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

const prefix = enc.encode("key-000001"); // 100 keys
const prefixEnd = enc.encode("key-000002");
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
