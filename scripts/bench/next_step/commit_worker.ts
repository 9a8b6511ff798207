// Issue 16's next step (a), measured before it is built: the backend's inserts and commits on a
// Worker with its own SQLite connection, against the event loop doing them as the member does.
// A stream of puts (10,000 keys, 256 B values) goes through the key index in memory either way.
//   inline: MvccStore as the member runs it: each put inserts its row, every BATCH puts the
//           batch transaction COMMITs (WAL checkpoints included) on this thread.
//   worker: each put updates the key index and packs its row into a buffer (where reads of rows
//           not yet committed would find them); every BATCH puts the buffer is transferred to a
//           Worker, which inserts the rows and commits. The main thread never waits for it.
// Reported per put: CPU of the main thread and of the Worker (from /proc/thread-self), and the
// longest time the main thread spent in one commit call.
//   deno run -A scripts/bench/next_step/commit_worker.ts [puts=200000] [batch=1000]

import { MvccStore } from "../../../src/mvcc/mod.ts";
import { TreeIndex } from "../../../src/mvcc/tree_index.ts";
import { bytesToBinary } from "../../../src/mvcc/key_range.ts";
import { RowBatch, threadCpuSeconds } from "./commit_rows.ts";

const PUTS = Number(Deno.args[0] ?? 200_000);
const BATCH = Number(Deno.args[1] ?? 1000);
const KEYS = 10_000;
const enc = new TextEncoder();
const keys = Array.from(
  { length: KEYS },
  (_, i) => enc.encode(`/bench/${String(i).padStart(5, "0")}`),
);
const value = new Uint8Array(256).fill(97);
const keyAt = (i: number) => keys[(i * 7919) % KEYS];

function report(mode: string, mainCpu: number, workerCpu: number, longestMs: number, ms: number) {
  const us = (s: number) => ((s / PUTS) * 1e6).toFixed(2).padStart(6);
  console.log(
    `${mode.padEnd(7)} main ${us(mainCpu)} us/put  worker ${us(workerCpu)} us/put  ` +
      `longest commit call ${longestMs.toFixed(1).padStart(6)} ms  ` +
      `${Math.round(PUTS / (ms / 1000))} puts/s wall`,
  );
}

function inline(file: string): void {
  const store = new MvccStore(file, { autoCompact: false });
  let longest = 0;
  const cpu0 = threadCpuSeconds(), t0 = performance.now();
  for (let i = 0; i < PUTS; i++) {
    const txn = store.write();
    txn.put(keyAt(i), value, 0n, false);
    txn.end();
    store.setConsistentIndex(i + 1);
    if (i % BATCH === BATCH - 1) {
      const c = performance.now();
      store.commit();
      longest = Math.max(longest, performance.now() - c);
    }
  }
  store.commit();
  report("inline", threadCpuSeconds() - cpu0, 0, longest, performance.now() - t0);
  store.close();
}

async function viaWorker(file: string): Promise<void> {
  const worker = new Worker(new URL("./commit_worker_thread.ts", import.meta.url), {
    type: "module",
  });
  const replies: ((v: { cpu: number }) => void)[] = [];
  worker.onmessage = (e) => replies.shift()!(e.data);
  const ask = (msg: unknown, transfer: Transferable[] = []) =>
    new Promise<{ cpu: number }>((resolve) => {
      replies.push(resolve);
      worker.postMessage(msg, transfer);
    });
  await ask({ open: file });
  const index = new TreeIndex();
  const rows = new RowBatch();
  let longest = 0;
  const cpu0 = threadCpuSeconds(), t0 = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < PUTS; i++) {
    const key = keyAt(i), main = i + 2, id = i + 1;
    const entry = index.entry(bytesToBinary(key));
    const cur = entry.current();
    const version = (cur?.version ?? 0) + 1, created = cur?.createRevision ?? main;
    index.put(entry, main, id, created, version, 0n);
    rows.add(id, main, key, created, version, value);
    if (i % BATCH === BATCH - 1 || i === PUTS - 1) {
      const c = performance.now();
      const batch = rows.take();
      pending.push(ask({ rows: batch, consistentIndex: i + 1, rev: main }, [batch]));
      longest = Math.max(longest, performance.now() - c);
    }
  }
  const mainCpu = threadCpuSeconds() - cpu0;
  await Promise.all(pending);
  const ms = performance.now() - t0;
  const { cpu } = await ask({ close: true });
  report("worker", mainCpu, cpu, longest, ms);
  worker.terminate();
}

const dir = Deno.makeTempDirSync({ prefix: "commit-worker-", dir: Deno.env.get("BENCH_DIR") });
try {
  for (let round = 0; round < 2; round++) {
    inline(`${dir}/inline-${round}.db`);
    await viaWorker(`${dir}/worker-${round}.db`);
  }
} finally {
  Deno.removeSync(dir, { recursive: true });
}
