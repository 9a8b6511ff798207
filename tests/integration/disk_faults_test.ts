// Disk faults of one member: power cuts that lose what the kernel never synced, a real full disk
// (a small tmpfs in a mount namespace the test makes), and damage found at start-up — a broken
// backend page refuses the start naming the file, a broken snapshot file is set aside for the
// one before it. Every acknowledged write survives each of them. Address block 127.0.202.x.
import assert from "node:assert/strict";
import {
  ETCD_TS,
  exited,
  itest,
  type Proc,
  singleMemberFlags,
  spawn,
  startEtcdTs,
  startReady,
  stop,
} from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { setFailpoint } from "../helpers/failpoints.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { type Acked, checkStore, Writers } from "../helpers/acked_writes.ts";
import { prng } from "../helpers/random.ts";
import { sleep, until } from "../helpers/wait.ts";

const IP = "127.0.202.1";
const EP = `http://${IP}:2379`;
const GOFAIL = `${IP}:22381`;

itest("power cuts under 8 writers lose unsynced bytes, never an acknowledged write", async () => {
  await assertPortsFree(IP, [2379, 2380, 22381]);
  const seed = Number(Deno.env.get("POWER_CUT_SEED") ?? Date.now() % 1_000_000);
  console.log(`  power cut seed ${seed} (POWER_CUT_SEED=${seed} replays the cut moments)`);
  const random = prng(seed);
  const flags = singleMemberFlags("s1", IP, `${tempDir().path}/data`);
  const writers = new Writers(EP, 8);
  let member: Proc | undefined;
  try {
    for (let round = 1; round <= 6; round++) {
      member = await startReady(flags, { env: { GOFAIL_HTTP: GOFAIL } });
      if (round > 1) await checkStore(EP, writers.acked);
      writers.resume();
      await sleep(Math.floor(150 + random() * 900));
      // Odd rounds lose every unsynced byte; even ones keep some whole sectors (a torn tail).
      await setFailpoint(GOFAIL, "walPowerCut", round % 2 === 0 ? `return("torn")` : "return");
      const status = await exited(member);
      await writers.pause();
      assert.equal(status.signal, "SIGKILL", member.lines.slice(-20).join("\n"));
      const cut = member.lines.find((l) => l.startsWith("failpoint walPowerCut: power cut;"));
      assert.ok(cut, member.lines.slice(-20).join("\n"));
      console.log(`  round ${round}: ${cut.replace(/^.*\.wal /, "")}; ${writers.acked.size} acked`);
    }
    member = await startReady(flags);
    const rev = await checkStore(EP, writers.acked);
    assert.ok(writers.acked.size > 100, `only ${writers.acked.size} writes acknowledged`);
    console.log(`  every acknowledged write found; store revision ${rev}`);
  } finally {
    await writers.stop();
    if (member) await stop(member);
  }
});

/** A process holding a private mount namespace with a tmpfs of each size on its directory. */
async function tmpfsNamespace(mounts: [dir: string, size: string][]): Promise<Proc> {
  const mount = mounts.map(([dir, size]) => `mount -t tmpfs -o size=${size} tmpfs ${dir}`);
  const holder = spawn("unshare", [
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    `${mount.join(" && ")} && echo mounted && exec sleep 600`,
  ]);
  await holder.waitFor("mounted");
  return holder;
}

/** Runs `command` inside the holder's mount namespace. */
function inNamespace(holder: Proc, command: string, args: string[]): Proc {
  return spawn("nsenter", ["-t", String(holder.pid), "-m", "--", command, ...args]);
}

/**
 * Fills the disk under the backend (the data dir) or under the WAL (--wal-dir on its own small
 * tmpfs) with writers running, then gives it room and restarts the member on the same files.
 */
async function fillDisk(full: "backend" | "wal", expected: RegExp): Promise<void> {
  await assertPortsFree(IP, [2379, 2380]);
  const data = tempDir().path;
  const wal = tempDir().path;
  const small = full === "backend" ? data : wal;
  const holder = await tmpfsNamespace([
    [data, full === "backend" ? "6m" : "64m"],
    [wal, full === "wal" ? "1536k" : "64m"],
  ]);
  const flags = [...singleMemberFlags("s1", IP, `${data}/data`), "--wal-dir", `${wal}/wal`];
  // Values of 2 KiB fill the log and the backend fast.
  const writers = new Writers(EP, 4, { valueBytes: 2048 });
  let member: Proc | undefined;
  try {
    member = inNamespace(holder, ETCD_TS, flags);
    await member.waitFor("ready to serve client requests", 30_000);
    writers.resume();
    const status = await exited(member, 60_000);
    await writers.pause();
    const log = member.lines.slice(-20).join("\n");
    assert.equal(status.code, 1, log);
    const fatal = member.lines.find((l) => / C \| /.test(l));
    assert.ok(fatal, log);
    assert.match(fatal, expected, log);
    console.log(`  ${writers.acked.size} acknowledged, then: ${fatal.slice(27)}`);
    assert.ok(writers.acked.size > 0);

    // More room, and the member comes back with everything it acknowledged.
    const grow = inNamespace(holder, "mount", ["-o", "remount,size=64m", small]);
    assert.equal((await grow.status).code, 0, grow.lines.join("\n"));
    member = inNamespace(holder, ETCD_TS, flags);
    await member.waitFor("ready to serve client requests", 30_000);
    const rev = await checkStore(EP, writers.acked);
    console.log(`  after the remount: every acknowledged write found; store revision ${rev}`);
  } finally {
    await writers.stop();
    if (member) await stop(member);
    holder.kill("SIGKILL");
    await holder.status;
  }
}

// SQLite's full disk shows at the batch commit, or in the apply if a page spills early.
itest(
  "a full disk under the backend stops the member; nothing acknowledged is lost",
  () =>
    fillDisk(
      "backend",
      / C \| (mvcc\/backend: cannot commit tx \(|etcdserver: unexpected error during apply: )database or disk is full\)?$/,
    ),
);

itest(
  "a full disk under the WAL stops the member naming the segment; nothing is lost",
  () =>
    fillDisk(
      "wal",
      / C \| etcdserver: failed to save state and entries error: write \S+\/wal\/[0-9a-f-]+\.wal: no space left on device$/,
    ),
);

/** Puts `n` fresh keys one after another, recording each acknowledgement. */
async function putSequentially(n: number, acked: Map<string, Acked>): Promise<void> {
  const writers = new Writers(EP, 1);
  writers.resume();
  await until(() => writers.acked.size >= n, 60_000, `${n} writes`);
  await writers.stop();
  for (const [k, v] of writers.acked) acked.set(k, v);
}

itest(
  "a damaged backend page refuses the start, naming the file, and changes nothing",
  async () => {
    await assertPortsFree(IP, [2379, 2380]);
    const dataDir = `${tempDir().path}/data`;
    const flags = singleMemberFlags("s1", IP, dataDir);
    let member = await startReady(flags);
    const acked = new Map<string, Acked>();
    await putSequentially(600, acked);
    await stop(member);

    const db = `${dataDir}/member/snap/db`;
    const good = Deno.readFileSync(db);
    const pages = good.length / 4096;
    const damaged = good.slice();
    // A page in the middle of the file, overwritten with garbage (what a torn write leaves).
    const page = Math.floor(pages / 2);
    damaged.set(crypto.getRandomValues(new Uint8Array(4096)), page * 4096);
    Deno.writeFileSync(db, damaged);

    const refused = startEtcdTs(flags);
    assert.equal((await exited(refused)).code, 1, refused.lines.join("\n"));
    const line = refused.lines.find((l) =>
      / C \| etcdmain: cannot open the backend database /.test(l)
    );
    assert.ok(line, refused.lines.join("\n"));
    assert.ok(line.includes(`${db}: database disk image is malformed`), line);
    assert.ok(!refused.lines.some((l) => l.includes("ready to serve client requests")));
    assert.deepEqual(Deno.readFileSync(db), damaged, "a refused start leaves the file as it was");
    console.log(`  page ${page} of ${pages}: ${line.slice(27)}`);

    Deno.writeFileSync(db, good);
    member = await startReady(flags);
    try {
      await checkStore(EP, acked);
    } finally {
      await stop(member);
    }
  },
);

itest("a damaged snapshot file is set aside for the one before it; nothing is lost", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const dataDir = `${tempDir().path}/data`;
  const flags = [...singleMemberFlags("s1", IP, dataDir), "--snapshot-count", "100"];
  let member = await startReady(flags);
  const acked = new Map<string, Acked>();
  await putSequentially(350, acked);
  await stop(member);

  const snapDir = `${dataDir}/member/snap`;
  const snaps = [...Deno.readDirSync(snapDir)].map((e) => e.name).filter((n) => n.endsWith(".snap"))
    .sort();
  assert.ok(snaps.length >= 2, `snapshots: ${snaps}`);
  const newest = `${snapDir}/${snaps.at(-1)}`;
  const bytes = Deno.readFileSync(newest);
  bytes[bytes.length - 3] ^= 0x01;
  Deno.writeFileSync(newest, bytes);

  member = await startReady(flags);
  try {
    const warning = member.lines.find((l) => l.includes(`W | snap: ${newest} is unreadable`));
    assert.ok(warning, member.lines.join("\n"));
    assert.match(warning, /\(crc mismatch\); renaming it to [0-9a-f-]+\.snap\.broken$/);
    assert.deepEqual(Deno.readFileSync(`${newest}.broken`), bytes);
    await checkStore(EP, acked);
    console.log(`  ${warning.slice(27)}`);
  } finally {
    await stop(member);
  }
});
