// `snapshot restore`: a new member's data dir from a snapshot file (etcd 3.4's or ours), as
// etcd's clientv3/snapshot restores one. The key space, leases, auth and alarms come from the
// snapshot; the membership is the new cluster's, with the member and cluster IDs etcd computes
// from --initial-cluster and --initial-cluster-token; the log starts at a raft snapshot whose
// index is the member count (etcd's restore commits one conf change per member at term 1).
// Everything is built in temporary directories beside the targets and renamed into place
// last, so a refused or failed restore leaves nothing behind.
import { basename, dirname, join, relative } from "node:path";
import type { Logger } from "../../log/mod.ts";
import { Backend } from "../backend.ts";
import {
  BootstrapError,
  checkInitialCluster,
  type InitialClusterEntry,
  type InitialMembers,
} from "../bootstrap_check.ts";
import { memberPaths } from "../member_state.ts";
import { Membership } from "../membership.ts";
import { importEtcdBackend } from "./import.ts";
import { EtcdDbError, exists } from "./layout.ts";
import { writeMemberFiles } from "./member_dir.ts";
import { openSnapshotFile } from "./snapshot_file.ts";

export interface RestoreRequest {
  snapshotPath: string;
  name: string;
  dataDir: string;
  /** "" for <data-dir>/member/wal. */
  walDir: string;
  cluster: InitialClusterEntry[];
  token: string;
  peerURLs: string[];
  skipHashCheck: boolean;
}

export async function restoreEtcdSnapshot(req: RestoreRequest, log: Logger): Promise<void> {
  // etcd's VerifyBootstrap words for the commonest mistake (our bootstrap check adds the guide's).
  if (!req.cluster.some((e) => e.name === req.name)) {
    throw new EtcdDbError(
      `couldn't find local name ${JSON.stringify(req.name)} in the initial cluster configuration`,
    );
  }
  let initial: InitialMembers;
  try {
    initial = checkInitialCluster("etcd-ts", req.name, req.peerURLs, req.cluster, req.token);
  } catch (err) {
    if (err instanceof BootstrapError) throw new EtcdDbError(err.message);
    throw err;
  }
  if (exists(req.dataDir)) throw new EtcdDbError(`data-dir ${JSON.stringify(req.dataDir)} exists`);
  if (req.walDir !== "" && exists(req.walDir)) {
    throw new EtcdDbError(`wal-dir ${JSON.stringify(req.walDir)} exists`);
  }
  const target = memberPaths(req.dataDir, req.walDir);
  const fields = {
    path: req.snapshotPath,
    "wal-dir": target.walDir,
    "data-dir": req.dataDir,
    "snap-dir": target.snapDir,
  };
  log.info({
    pkg: "snapshot",
    text: `restoring snapshot ${req.snapshotPath}`,
    msg: "restoring snapshot",
    fields,
  });
  const db = await openSnapshotFile(req.snapshotPath, req.skipHashCheck);
  const staged: [string, string][] = [];
  try {
    const dataDir = stage(req.dataDir, staged);
    const inside = relative(req.dataDir, req.walDir);
    const walDir = req.walDir === ""
      ? ""
      : inside.startsWith("..") || inside.startsWith("/")
      ? stage(req.walDir, staged)
      : join(dataDir, inside);
    await buildMember(memberPaths(dataDir, walDir), db, initial);
  } catch (err) {
    for (const [tmp] of staged) Deno.removeSync(tmp, { recursive: true });
    throw err;
  } finally {
    db.close();
  }
  // The WAL dir first: a data dir in place always has its log.
  for (const [tmp, final] of staged.reverse()) Deno.renameSync(tmp, final);
  log.info({
    pkg: "snapshot",
    text: `restored snapshot ${req.snapshotPath}`,
    msg: "restored snapshot",
    fields,
  });
}

/** A temporary directory beside `final`, recorded for renaming or removal. */
function stage(final: string, staged: [string, string][]): string {
  const parent = dirname(final);
  Deno.mkdirSync(parent, { recursive: true });
  const tmp = Deno.makeTempDirSync({ dir: parent, prefix: `.${basename(final)}.restore-` });
  staged.push([tmp, final]);
  return tmp;
}

async function buildMember(
  paths: ReturnType<typeof memberPaths>,
  db: Parameters<typeof importEtcdBackend>[0],
  initial: InitialMembers,
): Promise<void> {
  Deno.mkdirSync(paths.snapDir, { recursive: true, mode: 0o700 });
  const membership = new Membership(initial.clusterId);
  for (const m of initial.members) membership.add(m);
  const index = initial.members.length;
  const backend = new Backend(join(paths.snapDir, "db"));
  try {
    importEtcdBackend(db, backend, index);
    backend.saveMembership(membership);
    backend.commit({ sync: true });
  } finally {
    backend.close();
  }
  const voters = membership.list().map((m) => m.id);
  await writeMemberFiles(paths, {
    memberId: initial.localId,
    clusterId: initial.clusterId,
    hardState: { term: 1, vote: voters[0], commit: index },
    snapshot: { index, term: 1, confState: { voters, learners: [] } },
    membership,
    entries: [],
  });
}
