// --max-snapshots, --max-wals and --unsafe-no-fsync, side by side with a real etcd 3.4 given the
// same flags and the same writes: which snapshot and WAL files the purge loop deletes (and the
// lines it logs), and whether the member fsyncs at all while it takes writes (counted with
// strace on the running process, and by etcd's WAL fsync histogram).
// Address block 127.0.142.x: .1 and .3 etcd, .2 and .4 etcd-ts.
import assert from "node:assert/strict";
import {
  itest,
  metricValue,
  type Proc,
  singleMemberFlags,
  spawn,
  startReady,
  startReadyEtcd,
  stop,
} from "../helpers/process.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import { tempDir } from "../helpers/tmp.ts";

const BLOCK = "127.0.142";

interface Member {
  etcd: boolean;
  ip: string;
  dataDir: string;
  proc?: Proc;
}

/** Starts `m` alone in its cluster with `flags`, serving; `m.proc` is its process. */
async function startMember(m: Member, flags: string[]): Promise<Proc> {
  const args = [...singleMemberFlags("n1", m.ip, m.dataDir), ...flags];
  m.proc = await (m.etcd ? startReadyEtcd(args) : startReady(args));
  return m.proc;
}

const files = (dir: string, suffix: string) =>
  [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(suffix)).sort();

/** The purge lines, paths reduced to file names, sorted (etcd purges each kind concurrently). */
const purged = (p: Proc) =>
  p.lines.filter((l) => l.includes("purged file")).map((l) =>
    l.replace(/^\S+ \S+ /, "").replace(/ \S*\/([^/ ]+) successfully$/, " $1 successfully")
  ).sort();

/** ~1 MB values through the JSON gateway (etcdctl would need them on its command line). */
async function bigPuts(ip: string, n: number): Promise<void> {
  const value = btoa("x".repeat(1_000_000));
  for (let i = 0; i < n; i++) {
    const r = await fetch(`http://${ip}:2379/v3/kv/put`, {
      method: "POST",
      body: JSON.stringify({ key: btoa(`big${i % 3}`), value }),
    });
    const body = await r.text();
    assert.equal(r.status, 200, body);
  }
}

itest(
  "--max-snapshots and --max-wals: the purge loop keeps that many files (0 keeps all), as etcd",
  async () => {
    const dir = tempDir().path;
    const members: Member[] = [
      { etcd: true, ip: `${BLOCK}.1`, dataDir: `${dir}/etcd` },
      { etcd: false, ip: `${BLOCK}.2`, dataDir: `${dir}/ours` },
    ];
    for (const m of members) await assertPortsFree(m.ip, [2379, 2380]);
    const keepAll = ["--snapshot-count=10", "--max-snapshots=0", "--max-wals=0"];
    const seen = [];
    try {
      for (const m of members) {
        // 80 MB of log: past a 64 MB segment (etcd-ts may also end its first, preallocated
        // segment early), and a snapshot every 10 entries, the last (77) in the newest
        // segment or the one before: the first segment is released.
        await startMember(m, keepAll);
        await bigPuts(m.ip, 80);
        await stop(m.proc!);
        const snapDir = `${m.dataDir}/member/snap`, walDir = `${m.dataDir}/member/wal`;
        const before = { snaps: files(snapDir, ".snap"), wals: files(walDir, ".wal") };
        assert.ok(before.wals.length >= 2, `${m.etcd ? "etcd" : "etcd-ts"} cut a segment`);
        assert.ok(before.snaps.length >= 6);

        // Restarted with 0 (keep all): the purge loop does not run.
        let p = await startMember(m, keepAll);
        await stop(p);
        assert.deepEqual(purged(p), []);
        assert.ok(!p.lines.some((l) => l.includes("started to purge file")));
        assert.deepEqual(files(snapDir, ".snap"), before.snaps);
        assert.deepEqual(files(walDir, ".wal"), before.wals);

        // Restarted with limits: at its start the purge loop deletes the oldest files.
        p = await startMember(m, ["--snapshot-count=10", "--max-snapshots=2", "--max-wals=1"]);
        await p.waitFor(/purged file .*\.wal successfully/);
        await stop(p);
        // WAL files: the oldest go, down to one or up to the first one still in use (then
        // etcd warns that it cannot lock it).
        const wals = files(walDir, ".wal");
        const walPurged = purged(p).filter((l) => l.endsWith(".wal successfully"));
        assert.deepEqual(
          walPurged,
          before.wals.slice(0, before.wals.length - wals.length)
            .map((n) => `I | pkg/fileutil: purged file ${n} successfully`),
        );
        if (wals.length > 1) {
          assert.ok(
            p.lines.some((l) =>
              l.endsWith(
                `failed to lock file, path: ${walDir}/${
                  wals[0]
                }, error: fileutil: file already locked`,
              )
            ),
          );
        }
        // Snapshots: the newest two stay (the member may have taken one since; it stays until
        // the loop's next pass, 30 s later).
        assert.deepEqual(
          files(snapDir, ".snap").filter((n) => before.snaps.includes(n)),
          before.snaps.slice(-2),
        );
        seen.push({
          started: p.lines.filter((l) => l.includes("started to purge file"))
            .map((l) => l.replace(/^\S+ \S+ /, "").replace(m.dataDir, "DATA")),
          snapsPurged: purged(p).filter((l) => l.endsWith(".snap successfully")),
          firstWalPurged: walPurged[0],
        });
      }
      assert.deepEqual(seen[0].started, [
        "I | pkg/fileutil: started to purge file, dir: DATA/member/snap, suffix: snap.db, max: 2, interval: 30s",
        "I | pkg/fileutil: started to purge file, dir: DATA/member/snap, suffix: snap, max: 2, interval: 30s",
        "I | pkg/fileutil: started to purge file, dir: DATA/member/wal, suffix: wal, max: 1, interval: 30s",
      ]);
      assert.equal(
        seen[0].firstWalPurged,
        "I | pkg/fileutil: purged file 0000000000000000-0000000000000000.wal successfully",
      );
      // Same entries, same terms: even the snapshot file names agree with etcd's.
      assert.deepEqual(seen[1], seen[0]);
    } finally {
      for (const m of members) if (m.proc) await stop(m.proc);
      Deno.removeSync(dir, { recursive: true });
    }
  },
);

/**
 * fsync and fdatasync calls the member makes while it takes `puts` writes, and how many WAL
 * fsyncs its metric counted meanwhile.
 */
async function fsyncsDuring(m: Member, puts: number): Promise<{ syncs: number; metric: number }> {
  const before = await walFsyncs(m.ip);
  const out = `${m.dataDir}.strace`;
  // With -f, strace attaches to every thread of the process (and follows new ones); it says
  // so on stderr.
  const pid = String(m.proc!.pid);
  const strace = spawn("strace", ["-f", "-e", "trace=fsync,fdatasync", "-o", out, "-p", pid]);
  await strace.waitFor(`Process ${pid} attached`);
  for (let i = 0; i < puts; i++) {
    const r = await etcdctl(`http://${m.ip}:2379`, "put", `k${i}`, "v");
    assert.equal(r.code, 0, r.stderr);
  }
  await stop(strace);
  const metric = await walFsyncs(m.ip) - before;
  const syncs = Deno.readTextFileSync(out).split("\n")
    .filter((l) => /\b(fsync|fdatasync)\(/.test(l)).length;
  return { syncs, metric };
}

const walFsyncs = (ip: string) =>
  metricValue(`http://${ip}:2379`, "etcd_disk_wal_fsync_duration_seconds_count");

itest(
  "--unsafe-no-fsync: not one fsync while taking writes, as etcd; without it, one or more per write",
  async () => {
    const dir = tempDir().path;
    const seen: Record<string, { syncs: number; metric: number }> = {};
    try {
      for (const etcd of [true, false]) {
        for (const unsafe of [true, false]) {
          const m: Member = {
            etcd,
            ip: `${BLOCK}.${etcd ? 3 : 4}`,
            dataDir: `${dir}/${etcd}${unsafe}`,
          };
          await assertPortsFree(m.ip, [2379, 2380]);
          await startMember(m, unsafe ? ["--unsafe-no-fsync"] : []);
          try {
            const who = `${etcd ? "etcd" : "ours"} ${unsafe ? "unsafe" : "safe"}`;
            seen[who] = await fsyncsDuring(m, 10);
          } finally {
            await stop(m.proc!);
          }
        }
      }
      for (const who of ["etcd", "ours"]) {
        assert.deepEqual(seen[`${who} unsafe`], { syncs: 0, metric: 0 }, who);
        assert.ok(seen[`${who} safe`].syncs >= 10, `${who}: ${JSON.stringify(seen)}`);
        assert.ok(seen[`${who} safe`].metric >= 10, `${who}: ${JSON.stringify(seen)}`);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);
