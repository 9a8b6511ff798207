// Crash safety of one etcd-ts member: concurrent writers, kill -9 at seeded random moments,
// restart; every acknowledged write survives with its value and revisions have no gaps. Then
// the write-ahead log's two failure modes: a torn tail is repaired, a corrupt record refuses
// to start. Address block 127.0.12.x. CRASH_SEED=<n> replays a run.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { Etcd3 } from "etcd3";
import {
  itest,
  type Proc,
  singleMemberFlags,
  startEtcdTs,
  startReady,
} from "../helpers/process.ts";
import { prng } from "../helpers/random.ts";
import { tempDir } from "../helpers/tmp.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import { sleep } from "../helpers/wait.ts";

const IP = "127.0.12.1";
const EP = `http://${IP}:2379`;

// A lean Put client on node:http2, written here so that the oracle shares no code with the
// server and never retries on its own: a write counts only when its OK answer arrived.
const enc = new TextEncoder();

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function bytesField(field: number, b: Uint8Array): number[] {
  return [(field << 3) | 2, ...varint(b.length), ...b];
}

/** Reads the varint fields of one message level: field number -> last value or sub-message. */
function fields(buf: Uint8Array): Map<number, number | Uint8Array> {
  const out = new Map<number, number | Uint8Array>();
  let i = 0;
  const readVarint = () => {
    let n = 0, mul = 1, b;
    do {
      b = buf[i++];
      n += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return n;
  };
  while (i < buf.length) {
    const tag = readVarint();
    const wire = tag & 7;
    if (wire === 0) out.set(tag >>> 3, readVarint());
    else if (wire === 2) {
      const len = readVarint();
      out.set(tag >>> 3, buf.subarray(i, i + len));
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

/** PutRequest{key, value} -> the PutResponse header's revision; throws unless grpc-status 0. */
function put(session: http2.ClientHttp2Session, key: string, value: string): Promise<number> {
  const msg = new Uint8Array([
    ...bytesField(1, enc.encode(key)),
    ...bytesField(2, enc.encode(value)),
  ]);
  const frame = new Uint8Array(5 + msg.length);
  new DataView(frame.buffer).setUint32(1, msg.length);
  frame.set(msg, 5);
  return new Promise((resolve, reject) => {
    const req = session.request({
      ":method": "POST",
      ":path": "/etcdserverpb.KV/Put",
      "content-type": "application/grpc",
      te: "trailers",
    });
    const chunks: Uint8Array[] = [];
    let status: string | undefined;
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("trailers", (t) => status = String(t["grpc-status"]));
    req.on("error", reject);
    req.on("close", () => {
      if (status !== "0") return reject(new Error(`put ${key}: grpc-status ${status}`));
      const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let off = 0;
      for (const c of chunks) body.set(c, (off += c.length) - c.length);
      const header = fields(body.subarray(5)).get(1) as Uint8Array;
      resolve(fields(header).get(3) as number);
    });
    req.end(frame);
  });
}

interface Acked {
  value: string;
  revision: number;
}

/** Writers that put fresh keys `c/<writer>/<n>` until stopped, recording acknowledged ones. */
class Writers {
  readonly acked = new Map<string, Acked>();
  attempts = 0;
  failures = 0;
  #paused = true;
  #stopped = false;
  #loops: Promise<void>[] = [];
  #inFlight = 0;
  /** Resolved when paused writers may go on (resume or stop). */
  #resumed = Promise.withResolvers<void>();
  /** Resolved when the last write in flight finished, for a pause() waiting on it. */
  #drained?: PromiseWithResolvers<void>;

  constructor(count: number) {
    for (let w = 0; w < count; w++) this.#loops.push(this.#run(w));
  }

  resume() {
    this.#paused = false;
    this.#resumed.resolve();
  }

  /** Stops issuing writes and waits for the ones in flight to finish either way. */
  async pause() {
    this.#paused = true;
    this.#resumed = Promise.withResolvers();
    if (this.#inFlight === 0) return;
    this.#drained = Promise.withResolvers();
    await this.#drained.promise;
  }

  async stop() {
    this.#stopped = true;
    this.#paused = true;
    this.#resumed.resolve();
    await Promise.all(this.#loops);
  }

  async #run(w: number) {
    let session: http2.ClientHttp2Session | undefined;
    let n = 0;
    while (!this.#stopped) {
      if (this.#paused) {
        await this.#resumed.promise;
        continue;
      }
      session ??= http2.connect(EP).on("error", () => {});
      // Every attempt writes a new key, so an unacknowledged write that did reach the log
      // shows up as one extra key and never as a second version of an acknowledged one.
      const key = `c/${w}/${n++}`;
      const value = `v${w}.${n}.${crypto.randomUUID().slice(0, 8)}`;
      this.attempts++;
      this.#inFlight++;
      try {
        const revision = await put(session, key, value);
        this.acked.set(key, { value, revision });
      } catch {
        this.failures++;
        session.destroy();
        session = undefined;
        await sleep(20);
      } finally {
        if (--this.#inFlight === 0) this.#drained?.resolve();
      }
    }
    session?.destroy();
  }
}

const b64 = (s: string) =>
  new TextDecoder().decode(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));

interface Kv {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  version: number;
}

async function readAll(prefix = "c/"): Promise<{ revision: number; kvs: Kv[] }> {
  const r = await etcdctl(EP, "get", prefix, "--prefix", "-w", "json");
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  // deno-lint-ignore no-explicit-any
  const kvs = (j.kvs ?? []).map((kv: any) => ({
    key: b64(kv.key),
    value: b64(kv.value),
    createRevision: kv.create_revision,
    modRevision: kv.mod_revision,
    version: kv.version,
  }));
  return { revision: j.header.revision, kvs };
}

/**
 * Only fresh keys are ever put, so the store is exact: every key at version 1, and the keys'
 * revisions are exactly 2..rev (1 is the empty store), each used once — no gap, no double use.
 */
async function checkStore(acked: Map<string, Acked>): Promise<number> {
  const { revision, kvs } = await readAll();
  const byKey = new Map(kvs.map((kv) => [kv.key, kv]));
  for (const [key, a] of acked) {
    const kv = byKey.get(key);
    assert.ok(kv, `acknowledged write ${key} (revision ${a.revision}) is missing`);
    assert.equal(kv.value, a.value, `value of ${key}`);
    assert.equal(kv.modRevision, a.revision, `${key} acknowledged at another revision`);
  }
  const revs = kvs.map((kv) => {
    assert.equal(kv.version, 1, `${kv.key} has version ${kv.version}`);
    assert.equal(kv.createRevision, kv.modRevision);
    return kv.modRevision;
  }).sort((a, b) => a - b);
  assert.equal(revs.length, revision - 1, `store revision ${revision} but ${revs.length} keys`);
  revs.forEach((r, i) => assert.equal(r, i + 2, `revision ${i + 2} is missing`));
  return revision;
}

/** The revision history (what watchers replay) holds one put per revision 2..rev, in order. */
async function checkHistory(rev: number): Promise<void> {
  const client = new Etcd3({ hosts: EP });
  try {
    const watcher = await client.watch().prefix("c/").startRevision("2").create();
    const revisions = await new Promise<number[]>((resolve) => {
      const seen: number[] = [];
      watcher.on("data", (res) => {
        for (const e of res.events) {
          assert.equal(e.type, "Put");
          seen.push(Number(e.kv.mod_revision));
        }
        if (seen.length >= rev - 1) resolve(seen);
      });
    });
    await watcher.cancel();
    assert.deepEqual(revisions, Array.from({ length: rev - 1 }, (_, i) => i + 2));
  } finally {
    client.close();
  }
}

function walFiles(dataDir: string): string[] {
  const dir = `${dataDir}/member/wal`;
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".wal")).sort()
    .map((n) => `${dir}/${n}`);
}

/** Offsets and types of the records of a segment (8-byte aligned frames: len, crc, body). */
function records(buf: Uint8Array): { offset: number; type: number; size: number }[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = [];
  for (let off = 0; off + 8 <= buf.length;) {
    const len = view.getUint32(off, true);
    if (len === 0) break;
    const size = 8 + ((len + 7) & ~7);
    if (off + size > buf.length) break;
    out.push({ offset: off, type: buf[off + 8], size });
    off += size;
  }
  return out;
}

async function killHard(p: Proc): Promise<void> {
  p.kill("SIGKILL");
  const s = await p.status;
  assert.equal(
    s.signal,
    "SIGKILL",
    `the member died before the kill:\n${p.lines.slice(-40).join("\n")}`,
  );
}

itest(
  "kill -9 at random moments under 8 concurrent writers loses no acknowledged write",
  async () => {
    await assertPortsFree(IP, [2379, 2380]);
    const seed = Number(Deno.env.get("CRASH_SEED") ?? Date.now() % 1_000_000);
    console.log(`  crash seed ${seed} (CRASH_SEED=${seed} replays the kill moments)`);
    const random = prng(seed);
    const dir = tempDir().path;
    const flags = singleMemberFlags("s1", IP, `${dir}/data`);
    const writers = new Writers(8);
    let member = await startReady(flags);
    try {
      for (let round = 1; round <= 5; round++) {
        writers.resume();
        const ms = Math.floor(200 + random() * 1300);
        await sleep(ms);
        await killHard(member);
        await writers.pause();
        // Now and then the member also dies while it replays its log after the restart.
        if (random() < 0.4) {
          const early = Math.floor(random() * 1500);
          const dying = startEtcdTs(flags);
          await sleep(early);
          await killHard(dying);
          console.log(`  round ${round}: also killed ${early} ms into a restart`);
        }
        member = await startReady(flags);
        const rev = await checkStore(writers.acked);
        console.log(
          `  round ${round}: killed after ${ms} ms of writes; ${writers.acked.size} acknowledged ` +
            `of ${writers.attempts} attempts, store revision ${rev}`,
        );
      }
      await writers.stop();
      const probe = await etcdctl(EP, "put", "c/probe", "after-crashes");
      assert.equal(probe.stdout, "OK\n", probe.stderr);
      const rev = await checkStore(writers.acked);
      assert.ok(writers.acked.size > 100, `only ${writers.acked.size} writes acknowledged`);
      assert.ok(rev > writers.acked.size);
      await checkHistory(rev);
    } finally {
      await writers.stop();
      member.kill("SIGKILL");
      await member.status;
    }
  },
);

/** Puts `count` fresh keys `t/<tag>/<i>` through 8 concurrent streams; all must succeed. */
async function putMany(tag: string, count: number, acked: Map<string, Acked>): Promise<void> {
  const session = http2.connect(EP).on("error", () => {});
  try {
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < count) {
        const key = `c/${tag}/${next++}`;
        const value = `${tag}-${crypto.randomUUID()}`;
        acked.set(key, { value, revision: await put(session, key, value) });
      }
    }));
  } finally {
    session.destroy();
  }
}

itest("a torn WAL tail after kill -9 is repaired and loses nothing acknowledged", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const dataDir = `${dir}/data`;
  const flags = singleMemberFlags("s1", IP, dataDir);
  const acked = new Map<string, Acked>();
  let member = await startReady(flags);
  try {
    await putMany("a", 200, acked);
    await killHard(member);

    // One save() is one write of [entries..., hard state]; the last record of a log at rest is
    // the hard state of the last save. Cut the file in the middle of it: a crash inside that
    // write (segments may be preallocated: the log ends where zeros begin).
    let [seg] = walFiles(dataDir).slice(-1);
    let buf = Deno.readFileSync(seg);
    const last = records(buf).at(-1)!;
    const end = last.offset + last.size;
    assert.ok(buf.subarray(end).every((b) => b === 0), "only zeros follow the last record");
    assert.equal(last.type, 3, "the last record of a save is its hard state");
    Deno.truncateSync(seg, last.offset + Math.floor(last.size / 2));

    member = await startReady(flags);
    await member.waitFor(/repaired torn tail of .*\.wal/);
    await checkStore(acked);
    await putMany("b", 200, acked);
    await killHard(member);

    // A save that died part-way: the first half of a new record after the last whole one.
    [seg] = walFiles(dataDir).slice(-1);
    buf = Deno.readFileSync(seg);
    const recs = records(buf);
    const entry = recs.findLast((r) => r.type === 2)!;
    const torn = buf.slice(entry.offset, entry.offset + Math.ceil(entry.size / 2));
    const f = Deno.openSync(seg, { write: true });
    f.seekSync(recs.at(-1)!.offset + recs.at(-1)!.size, Deno.SeekMode.Start);
    f.writeSync(torn);
    f.close();

    member = await startReady(flags);
    await member.waitFor(/repaired torn tail of .*\.wal/);
    const rev = await checkStore(acked);
    const after = await etcdctl(EP, "put", "c/after", "x");
    assert.equal(after.stdout, "OK\n", after.stderr);
    assert.equal(await checkStore(acked), rev + 1);
  } finally {
    member.kill("SIGKILL");
    await member.status;
  }
});

itest("a corrupt record in the middle of the WAL refuses to start, naming the file", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const dataDir = `${dir}/data`;
  const flags = singleMemberFlags("s1", IP, dataDir);
  const member = await startReady(flags);
  await putMany("a", 100, new Map());
  await killHard(member);

  const [seg] = walFiles(dataDir).slice(-1);
  const buf = Deno.readFileSync(seg);
  const entries = records(buf).filter((r) => r.type === 2);
  const victim = entries[Math.floor(entries.length / 2)];
  buf[victim.offset + 8 + Math.floor((victim.size - 8) / 2)] ^= 0x20;
  Deno.writeFileSync(seg, buf);

  const refused = startEtcdTs(flags);
  const status = await refused.status;
  const stderr = refused.lines.join("\n");
  assert.notEqual(status.code, 0, stderr);
  assert.equal(status.code, 1, stderr);
  assert.match(stderr, new RegExp(`${seg.replaceAll(".", "\\.")}.*corrupt`), stderr);
  assert.doesNotMatch(stderr, /ready to serve client requests/);
  assert.deepEqual(Deno.readFileSync(seg), buf, "a refused start leaves the log as it was");
  await assertPortsFree(IP, [2379, 2380]);
});
