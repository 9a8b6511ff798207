// What a data dir etcd 3.4 wrote holds, read without changing a byte of it: the member and
// cluster IDs and hard state from the WAL, the newest snap file the WAL knows, the backend (a
// bbolt file) and its consistent index, and the log entries the backend has not applied yet,
// converted for this member. Our raft log then starts at a snapshot at the consistent index.
import { type Db, openDbFile } from "../../bbolt/mod.ts";
import { messages } from "../../pb/mod.ts";
import type { Entry, HardState, SnapshotMetadata } from "../../raft/mod.ts";
import { EntryType } from "../../raft/mod.ts";
import { etcdWalSnapshots, loadNewestEtcdSnap, readEtcdWal } from "../../storage/mod.ts";
import type { MemberPaths } from "../member_state.ts";
import { confStateAfter, convertEtcdEntries, decodeEntryRequest, v2Proposal } from "./entries.ts";
import { checkEtcdBuckets } from "./import.ts";
import { BUCKET, EtcdDbError, META_KEY, readU64 } from "./layout.ts";

export interface EtcdDataDir {
  memberId: bigint;
  clusterId: bigint;
  hardState: HardState;
  /** Where the imported log starts: the backend's consistent index, its term and config. */
  snapshot: SnapshotMetadata;
  /** The entries after it, in this member's encoding. */
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
  if (snap) checkV2Store(snap.data);
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
    checkAppliedV2(applied);
    return {
      memberId: NodeID,
      clusterId: ClusterID,
      hardState: wal.hardState,
      snapshot: {
        index: ci,
        term: applied.at(-1)?.term ?? start.term,
        confState: confStateAfter(start.confState, applied),
      },
      entries: convertEtcdEntries(wal.entries.slice(applied.length)),
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

const V2_DATA = "etcd's v2 store holds keys written through the v2 API, which etcd-ts does " +
  "not take over";

/** The snap file's v2 store: etcd's own /0 (members, version) only, no client keys in /1. */
function checkV2Store(data: Uint8Array): void {
  let root: { Root?: { Children?: Record<string, { Children?: Record<string, unknown> }> } };
  try {
    root = JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    throw new EtcdDbError(`etcd's snap file does not hold its v2 store: ${(err as Error).message}`);
  }
  const keys = root.Root?.Children?.["1"]?.Children ?? {};
  if (Object.keys(keys).length > 0) {
    throw new EtcdDbError(`${V2_DATA} (${Object.keys(keys).map((k) => `/${k}`).join(", ")})`);
  }
}

/** Entries the backend has applied still changed the v2 store; only etcd's own may have. */
function checkAppliedV2(entries: Entry[]): void {
  for (const e of entries) {
    if (e.type !== EntryType.Normal || e.data.length === 0) continue;
    const req = decodeEntryRequest(e.data);
    const v2 = "Method" in req ? req : req.v2;
    if (v2 && !v2Proposal(v2)) {
      throw new EtcdDbError(`${V2_DATA} (entry ${e.index}: v2 ${v2.Method} ${v2.Path})`);
    }
  }
}
