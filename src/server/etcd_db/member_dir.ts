// A member's raft files written from parts read elsewhere (a snapshot being restored, an etcd
// data dir being taken over): the WAL with the member's identity, the raft snapshot the log
// starts from, and the entries after it. The backend is imported separately.
import type { Entry, HardState, SnapshotMetadata } from "../../raft/mod.ts";
import { createWal, Snapshotter } from "../../storage/mod.ts";
import type { Membership } from "../membership.ts";
import { encodeMetadata, type MemberPaths } from "../member_state.ts";

export interface MemberFiles {
  memberId: bigint;
  clusterId: bigint;
  hardState: HardState;
  /** Where the log starts: the backend's consistent index, its term and configuration. */
  snapshot: SnapshotMetadata;
  /** Carried in the snapshot file, as the member's own snapshots carry it. */
  membership: Membership;
  /** Entries after the snapshot, in this member's encoding. */
  entries: Entry[];
}

export async function writeMemberFiles(paths: MemberPaths, f: MemberFiles): Promise<void> {
  const wal = await createWal(paths.walDir, encodeMetadata(f.memberId, f.clusterId));
  try {
    await wal.saveSnapshot(f.snapshot);
    await wal.save(f.hardState, f.entries, true);
  } finally {
    await wal.close();
  }
  const data = new TextEncoder().encode(JSON.stringify(f.membership.toJSON()));
  await new Snapshotter(paths.snapDir).save({ metadata: f.snapshot, data });
}
