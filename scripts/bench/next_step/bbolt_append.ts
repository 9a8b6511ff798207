// Issue 16's next step (b), measured with a prototype: the key space stored in bbolt's own file
// format (bbolt_tail.ts), committed as bbolt's Tx.Commit does — the pages the batch filled, the
// rightmost path of the key bucket rewritten copy-on-write, the root bucket's leaf (with the meta
// bucket inline: the consistent index), a freelist page, fdatasync, the meta page, fdatasync —
// against the same puts through MvccStore's SQLite commits. Per commit: the main thread's CPU to
// encode pages, the write and fsync times (which node:sqlite does on the event loop and a
// bbolt-format engine could do on Deno's I/O threads), and bytes written. The file is checked by
// reading it back with src/bbolt.
//   deno run -A scripts/bench/next_step/bbolt_append.ts [puts=200000] [batch=1000]
//   (BENCH_DIR=<dir> puts the files elsewhere than the system's temporary directory;
//   BBOLT_KEEP=<path> keeps a copy of the bbolt file, for `bbolt check` of scripts/go-tools)

import { openDbFile } from "../../../src/bbolt/mod.ts";
import { BUCKET_LEAF, FREELIST_PAGE, view, writePageHeader } from "../../../src/bbolt/layout.ts";
import { writeMeta } from "../../../src/bbolt/meta.ts";
import { MvccStore, revisionKey, storedKeyValue } from "../../../src/mvcc/mod.ts";
import { type Dirty, OpenPage, PAGE, TailTree } from "./bbolt_tail.ts";
import { threadCpuSeconds } from "./commit_rows.ts";

const PUTS = Number(Deno.args[0] ?? 200_000);
const BATCH = Number(Deno.args[1] ?? 1000);
const enc = new TextEncoder();
const value = new Uint8Array(256).fill(97);
const keyOf = (i: number) => enc.encode(`/bench/${String((i * 7919) % 10_000).padStart(5, "0")}`);

interface Costs {
  encodeMs: number[];
  writeMs: number[];
  syncMs: number[];
}

class BboltAppender {
  readonly file: Deno.FsFile;
  #hwm = 2; // pages 0 and 1 are the metas
  #free: number[] = [];
  #pending: number[] = [];
  #lastPath: number[] = [];
  #txid = 1n;
  readonly dirty: Dirty = new Map();
  readonly tree = new TailTree((n) => this.#alloc(n), this.dirty);
  readonly costs: Costs = { encodeMs: [], writeMs: [], syncMs: [] };
  bytes = 0;

  constructor(path: string) {
    this.file = Deno.openSync(path, { read: true, write: true, create: true, truncate: true });
  }

  #alloc(pages: number): number {
    if (pages === 1 && this.#free.length > 0) return this.#free.pop()!;
    const id = this.#hwm;
    this.#hwm += pages;
    return id;
  }

  commit(consistentIndex: number): void {
    const t0 = performance.now();
    const { root, path } = this.tree.commitPath();
    const top = new OpenPage(true);
    top.add(enc.encode("key"), bucketHeader(root), 0, BUCKET_LEAF);
    top.add(enc.encode("meta"), inlineMeta(consistentIndex), 0, BUCKET_LEAF);
    const topId = this.#alloc(1);
    this.dirty.set(topId, top.encode(topId));
    this.#pending.push(...this.#lastPath);
    this.#lastPath = [...path, topId];
    const freelistId = this.#alloc(1);
    this.#pending.push(freelistId); // the next commit writes a new one
    this.dirty.set(freelistId, freelistPage(freelistId, [...this.#free, ...this.#pending]));
    const meta = new Uint8Array(PAGE);
    const metaId = Number(this.#txid % 2n);
    writeMeta(meta, metaId, {
      pageSize: PAGE,
      flags: 0,
      root: topId,
      rootSequence: 0n,
      freelist: freelistId,
      pgid: this.#hwm,
      txid: this.#txid++,
    });
    const t1 = performance.now();
    for (const [id, bytes] of [...this.dirty].sort((a, b) => a[0] - b[0])) this.#write(id, bytes);
    this.dirty.clear();
    const t2 = performance.now();
    this.file.syncDataSync();
    const t3 = performance.now();
    this.#write(metaId, meta);
    const t4 = performance.now();
    this.file.syncDataSync();
    const t5 = performance.now();
    this.costs.encodeMs.push(t1 - t0);
    this.costs.writeMs.push(t2 - t1 + (t4 - t3));
    this.costs.syncMs.push(t3 - t2 + (t5 - t4));
    // Durable: what this commit freed may be reused by the next.
    this.#free.push(...this.#pending);
    this.#pending = [];
  }

  #write(id: number, bytes: Uint8Array): void {
    this.file.seekSync(id * PAGE, Deno.SeekMode.Start);
    for (let done = 0; done < bytes.length;) done += this.file.writeSync(bytes.subarray(done));
    this.bytes += bytes.length;
  }
}

function bucketHeader(root: number): Uint8Array {
  const out = new Uint8Array(16);
  view(out).setBigUint64(0, BigInt(root), true);
  return out;
}

/** The meta bucket stored inline: a bucket header with root 0, then its one leaf page. */
function inlineMeta(consistentIndex: number): Uint8Array {
  const leaf = new OpenPage(true);
  const ci = new Uint8Array(8);
  view(ci).setBigUint64(0, BigInt(consistentIndex));
  leaf.add(enc.encode("consistent_index"), ci, 0);
  const page = leaf.encode(0).subarray(0, leaf.size);
  const out = new Uint8Array(16 + page.length);
  out.set(page, 16);
  return out;
}

function freelistPage(id: number, ids: number[]): Uint8Array {
  const sorted = [...ids].sort((a, b) => a - b);
  const out = new Uint8Array(Math.ceil((16 + 8 * (sorted.length + 1)) / PAGE) * PAGE);
  const big = sorted.length >= 0xffff;
  writePageHeader(out, {
    id,
    flags: FREELIST_PAGE,
    count: big ? 0xffff : sorted.length,
    overflow: out.length / PAGE - 1,
  });
  const v = view(out);
  let at = 16;
  if (big) {
    v.setBigUint64(at, BigInt(sorted.length), true);
    at += 8;
  }
  for (const pgid of sorted) {
    v.setBigUint64(at, BigInt(pgid), true);
    at += 8;
  }
  return out;
}

function stats(label: string, xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(2);
  return `${label} p50 ${at(0.5)} p99 ${at(0.99)} max ${s[s.length - 1].toFixed(2)} ms`;
}

function bbolt(path: string): void {
  const db = new BboltAppender(path);
  const cpu0 = threadCpuSeconds();
  let encodeCpu = 0;
  for (let i = 0; i < PUTS; i++) {
    const main = i + 2;
    const kv = {
      key: keyOf(i),
      createRevision: 2,
      modRevision: main,
      version: 1,
      value,
      lease: 0n,
    };
    const c = performance.now();
    db.tree.put(revisionKey(main, 0, false), storedKeyValue(kv));
    encodeCpu += performance.now() - c;
    if (i % BATCH === BATCH - 1 || i === PUTS - 1) db.commit(i + 1);
  }
  const cpu = threadCpuSeconds() - cpu0;
  db.file.close();
  const check = openDbFile(path);
  let n = 0, last = 0;
  for (const [k] of check.bucket("key")!.entries()) {
    const main = Number(new DataView(k.buffer, k.byteOffset).getBigUint64(0));
    if (main <= last) throw new Error(`bbolt file out of order at ${main}`);
    last = main;
    n++;
  }
  if (n !== PUTS) throw new Error(`bbolt file holds ${n} revisions, not ${PUTS}`);
  const keep = Deno.env.get("BBOLT_KEEP");
  if (keep) Deno.copyFileSync(path, keep);
  const c = db.costs;
  console.log(
    `bbolt   ${(db.bytes / c.encodeMs.length / 1024).toFixed(0)} KiB/commit, ` +
      `main-thread CPU ${(cpu / PUTS * 1e6).toFixed(2)} us/put (page building ` +
      `${(encodeCpu / PUTS * 1000).toFixed(2)} us/put)\n  ${stats("encode", c.encodeMs)}\n  ` +
      `${stats("write", c.writeMs)}\n  ${stats("2x fdatasync", c.syncMs)}`,
  );
}

function sqlite(path: string): void {
  const store = new MvccStore(path, { autoCompact: false });
  const commitMs: number[] = [];
  const written0 = writtenBytes();
  const cpu0 = threadCpuSeconds();
  for (let i = 0; i < PUTS; i++) {
    const txn = store.write();
    txn.put(keyOf(i), value, 0n, false);
    txn.end();
    store.setConsistentIndex(i + 1);
    if (i % BATCH === BATCH - 1 || i === PUTS - 1) {
      const c = performance.now();
      store.commit();
      commitMs.push(performance.now() - c);
    }
  }
  const cpu = threadCpuSeconds() - cpu0;
  const bytes = writtenBytes() - written0;
  store.close();
  console.log(
    `sqlite  ${(bytes / commitMs.length / 1024).toFixed(0)} KiB/commit (incl. checkpoints), ` +
      `main-thread CPU ${(cpu / PUTS * 1e6).toFixed(2)} us/put\n  ${stats("commit", commitMs)}`,
  );
}

/** Bytes this process caused to be written to storage (/proc/self/io). */
function writtenBytes(): number {
  const io = Deno.readTextFileSync("/proc/self/io");
  return Number(/^write_bytes: (\d+)$/m.exec(io)![1]);
}

const dir = Deno.makeTempDirSync({ prefix: "bbolt-append-", dir: Deno.env.get("BENCH_DIR") });
try {
  console.log(`${PUTS} puts of 256 B values, a commit every ${BATCH}`);
  for (let round = 0; round < 2; round++) {
    bbolt(`${dir}/key.db`);
    sqlite(`${dir}/sqlite-${round}.db`);
  }
} finally {
  Deno.removeSync(dir, { recursive: true });
}
