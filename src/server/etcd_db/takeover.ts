// Taking over a data dir etcd 3.4 wrote, in place: at start-up, before the member opens its
// data dir, etcd's member dir (WAL, snap files, bbolt backend) is read, an etcd-ts member dir is
// built beside it from what it holds (same member and cluster IDs, keys with their revisions,
// leases, auth, members; entries the backend had not applied yet are kept in the new log and
// applied on start), and the two are swapped: etcd's files stay unchanged in
// `member.etcd-3.4` (and `<wal-dir>.etcd-3.4` for a separate --wal-dir). The swap is a few
// renames done last; a crash during them is finished at the next start, a crash before them
// leaves etcd's dir in place to be read again. An etcd-ts data dir is left alone.
import { dirname, join } from "node:path";
import { BboltError } from "../../bbolt/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { ProtoDecodeError } from "../../pb/mod.ts";
import { EtcdWalError } from "../../storage/mod.ts";
import { BootstrapError } from "../bootstrap_check.ts";
import { Backend } from "../backend.ts";
import { formatId } from "../ids.ts";
import type { MemberPaths } from "../member_state.ts";
import { type EtcdDataDir, readEtcdDataDir } from "./etcd_dir.ts";
import { importEtcdBackend } from "./import.ts";
import { EtcdDbError, exists, membershipOf } from "./layout.ts";
import { writeMemberFiles } from "./member_dir.ts";

const KEPT = ".etcd-3.4";
const BUILDING = ".etcd-ts-import";
const SQLITE_MAGIC = "SQLite format 3\0";

const removeIfExists = (path: string) => {
  if (exists(path)) Deno.removeSync(path, { recursive: true });
};

/** Whether the backend file is one etcd wrote (anything but our SQLite database). */
function isEtcdBackend(dbPath: string): boolean {
  if (!exists(dbPath)) return false;
  using file = Deno.openSync(dbPath, { read: true });
  const head = new Uint8Array(SQLITE_MAGIC.length);
  const n = file.readSync(head) ?? 0;
  return new TextDecoder().decode(head.subarray(0, n)) !== SQLITE_MAGIC;
}

interface Layout {
  /** [from, to] in the order they happen; a rename already done is skipped on a resume. */
  moves: [string, string][];
  kept: string[];
  building: MemberPaths;
}

function layout(paths: MemberPaths): Layout {
  const separateWal = paths.walDir !== join(paths.memberDir, "wal");
  const building = join(paths.dataDir, `member${BUILDING}`);
  const buildingWal = separateWal ? paths.walDir + BUILDING : join(building, "wal");
  const moves: [string, string][] = [[paths.memberDir, paths.memberDir + KEPT]];
  if (separateWal) moves.push([paths.walDir, paths.walDir + KEPT], [buildingWal, paths.walDir]);
  moves.push([building, paths.memberDir]);
  return {
    moves,
    kept: moves.filter(([, to]) => to.endsWith(KEPT)).map(([, to]) => to),
    building: {
      dataDir: paths.dataDir,
      memberDir: building,
      walDir: buildingWal,
      snapDir: join(building, "snap"),
      dbPath: join(building, "snap", "db"),
    },
  };
}

/**
 * Run before the member opens `paths`; does nothing unless they hold etcd 3.4's files. A data
 * dir that cannot be taken over is refused with a BootstrapError saying why; nothing changes.
 */
export async function takeOverEtcdDataDir(paths: MemberPaths, log: Logger): Promise<void> {
  try {
    await takeOver(paths, log);
  } catch (err) {
    const known = err instanceof EtcdDbError || err instanceof EtcdWalError ||
      err instanceof BboltError || err instanceof ProtoDecodeError;
    if (!known) throw err;
    throw new BootstrapError(
      `cannot take over etcd's data dir ${paths.dataDir}: ${err.message}`,
    );
  }
}

async function takeOver(paths: MemberPaths, log: Logger): Promise<void> {
  const plan = layout(paths);
  const { building } = plan;
  if (exists(building.memberDir) && plan.kept.some(exists)) {
    swap(plan);
    log.info({ pkg: "etcdserver", text: `finished taking over etcd's data dir ${paths.dataDir}` });
    return;
  }
  if (!isEtcdBackend(paths.dbPath)) return;
  for (const kept of plan.kept) {
    if (exists(kept)) throw new EtcdDbError(`cannot keep etcd's files in ${kept}: it exists`);
  }
  checkNotInUse(paths.dbPath);
  // What a start that crashed while building left.
  removeIfExists(building.walDir);
  removeIfExists(building.memberDir);
  const etcd = readEtcdDataDir(paths, (text) => log.warn({ pkg: "etcdserver", text }));
  try {
    await build(building, etcd, log);
  } catch (err) {
    removeIfExists(building.walDir);
    removeIfExists(building.memberDir);
    throw err;
  } finally {
    etcd.db.close();
  }
  swap(plan);
  log.notice({
    pkg: "etcdserver",
    text: `took over etcd 3.4's data dir ${paths.dataDir}: member ${formatId(etcd.memberId)} ` +
      `of cluster ${formatId(etcd.clusterId)} at raft index ${etcd.snapshot.index}, ` +
      `${etcd.entries.length} entries from etcd's WAL to apply; etcd's files are kept ` +
      `unchanged in ${plan.kept.join(" and ")}`,
    msg: "took over etcd 3.4 data dir",
    fields: {
      "data-dir": paths.dataDir,
      "local-member-id": formatId(etcd.memberId),
      "cluster-id": formatId(etcd.clusterId),
      "consistent-index": etcd.snapshot.index,
      "entries-to-apply": etcd.entries.length,
      "etcd-files-kept-in": plan.kept,
    },
  });
}

/** bbolt holds an exclusive flock on the backend while etcd runs. */
function checkNotInUse(dbPath: string): void {
  using file = Deno.openSync(dbPath, { read: true });
  if (!file.tryLockSync(false)) {
    throw new EtcdDbError(`etcd's backend ${dbPath} is locked: is etcd still running on it?`);
  }
  file.unlockSync();
}

async function build(paths: MemberPaths, etcd: EtcdDataDir, log: Logger): Promise<void> {
  if (etcd.tornTail) {
    log.warn({ pkg: "wal", text: `left out the torn end of etcd's WAL (${etcd.tornTail})` });
  }
  Deno.mkdirSync(paths.snapDir, { recursive: true, mode: 0o700 });
  const backend = new Backend(paths.dbPath);
  let membership;
  try {
    const imported = importEtcdBackend(etcd.db, backend);
    const { members, removed, clusterVersion } = imported;
    if (!members.some((m) => m.id === etcd.memberId)) {
      throw new EtcdDbError(
        `etcd's backend does not list this member (${formatId(etcd.memberId)}) among its ` +
          `members [${members.map((m) => formatId(m.id)).join(" ")}]`,
      );
    }
    membership = membershipOf(etcd.clusterId, members, removed, clusterVersion);
    backend.saveMembership(membership);
    backend.commit({ sync: true });
  } finally {
    backend.close();
  }
  await writeMemberFiles(paths, { ...etcd, membership });
}

function swap(plan: Layout): void {
  for (const [from, to] of plan.moves) {
    if (exists(from) && !exists(to)) Deno.renameSync(from, to);
  }
  // The renames are durable once their directories are synced.
  for (const dir of new Set(plan.moves.map(([, to]) => dirname(to)))) {
    using d = Deno.openSync(dir, { read: true });
    d.syncSync();
  }
}
