// What a data dir etcd 3.4 wrote holds, read without changing a byte of it: the member and
// cluster IDs and hard state from the WAL, the newest snap file the WAL knows (its v2 store),
// the backend (a bbolt file) and its consistent index, the log entries the backend applied
// after the snapshot and those it has not applied yet. Our raft log then starts at a snapshot
// at the consistent index.
import { type Db, openDbFile } from "../../bbolt/mod.ts";
import { messages } from "../../pb/mod.ts";
import type { Entry, HardState, SnapshotMetadata } from "../../raft/mod.ts";
import { etcdWalSnapshots, loadNewestEtcdSnap, readEtcdWal } from "../../storage/mod.ts";
import type { MemberPaths } from "../member_state.ts";
import { checkEtcdEntries } from "./entries.ts";
import { checkEtcdBuckets } from "./import.ts";
import { BUCKET, EtcdDbError, META_KEY, readU64 } from "./layout.ts";

export interface EtcdDataDir {
  memberId: bigint;
  clusterId: bigint;
  hardState: HardState;
  /** The newest snapshot the WAL knows (index 0 when none). */
  snapshot: SnapshotMetadata;
  /** Its data: the v2 store as etcd's store.Save() wrote it; undefined without a snapshot. */
  v2Store?: Uint8Array;
  /** The entries after the snapshot up to the backend's consistent index. */
  applied: Entry[];
  /** The entries after the consistent index, to apply on start. */
  entries: Entry[];
  /** The backend, open for reading; close it. */
  db: Db;
  /** A torn write at the end of etcd's last WAL segment, left out as etcd would repair it. */
  tornTail?: string;
}

export function readEtcdDataDir(paths: MemberPaths, warn: (text: string) => void): EtcdDataDir {
  const walSnaps = etcdWalSnapshots(paths.walDir);
  const snap = loadNewestEtcdSnap(paths.snapDir, walSnaps, warn);
  const start = snap?.metadata ?? { index: 0, term: 0, confState: { voters: [], learners: [] } };
  const wal = readEtcdWal(paths.walDir, start);
  const { NodeID, ClusterID } = messages["etcdserverpb.Metadata"].decode(wal.metadata);
  const db = openBackend(paths.dbPath);
  try {
    const ci = consistentIndex(db);
    const last = start.index + wal.entries.length;
    if (ci < start.index) {
      throw new EtcdDbError(
        `etcd's backend is at raft index ${ci}, behind its snapshot at ${start.index} (etcd ` +
          `would replace it with member/snap/${hex16(start.index)}.snap.db)`,
      );
    }
    if (ci > last || ci > wal.hardState.commit) {
      throw new EtcdDbError(
        `etcd's backend is at raft index ${ci}, past its WAL (last entry ${last}, commit ` +
          `${wal.hardState.commit}): the WAL and the backend are not of the same member`,
      );
    }
    const applied = wal.entries.slice(0, ci - start.index);
    const entries = wal.entries.slice(applied.length);
    checkEtcdEntries(entries);
    return {
      memberId: NodeID,
      clusterId: ClusterID,
      hardState: wal.hardState,
      snapshot: start,
      v2Store: snap?.data,
      applied,
      entries,
      db,
      tornTail: wal.tornTail,
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

const hex16 = (n: number) => n.toString(16).padStart(16, "0");

function openBackend(path: string): Db {
  let db: Db;
  try {
    db = openDbFile(path);
  } catch (err) {
    throw new EtcdDbError(`etcd's backend ${path}: ${(err as Error).message}`);
  }
  try {
    checkEtcdBuckets(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function consistentIndex(db: Db): number {
  const v = db.bucket(BUCKET.meta)!.get(META_KEY.consistentIndex);
  return v === undefined ? 0 : Number(readU64(v, META_KEY.consistentIndex));
}
