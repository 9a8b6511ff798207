// Crash safety of one etcd-ts member: concurrent writers, kill -9 at seeded random moments,
// restart; every acknowledged write survives with its value and revisions have no gaps. Then
// the write-ahead log's two failure modes: a torn tail is repaired, a corrupt record refuses
// to start. Address block 127.0.12.x. CRASH_SEED=<n> replays a run.
import assert from "node:assert/strict";
import http2 from "node:http2";
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
import {
  type Acked,
  checkHistory,
  checkStore as checkStoreAt,
  put,
  Writers,
} from "../helpers/acked_writes.ts";

const IP = "127.0.12.1";
const EP = `http://${IP}:2379`;
const checkStore = (acked: Map<string, Acked>) => checkStoreAt(EP, acked);

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
    const writers = new Writers(EP, 8);
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
      await checkHistory(EP, rev);
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
