// Raft snapshots every --snapshot-count applied entries, so the log (in memory and on disk)
// stays bounded. The key space lives in the backend, not in the snapshot: the backend is first
// made durable with its consistent index, and only then may log entries below it go.
import type { MemoryStorage, Snapshot } from "../raft/mod.ts";
import type { Snapshotter, Wal } from "../storage/mod.ts";
import type { Logger } from "../log/mod.ts";
import { failpoints, hit } from "../failpoint/mod.ts";
import type { AppliedState } from "./apply/mod.ts";
import type { Backend } from "./backend.ts";
import { formatId } from "./ids.ts";
import type { Membership } from "./membership.ts";

/** Entries kept after a snapshot so slow followers can catch up from the log (etcd's value). */
export const SNAPSHOT_CATCH_UP_ENTRIES = 5000;

export interface SnapshottingDeps {
  log: Logger;
  memberId: bigint;
  applied: AppliedState;
  backend: Backend;
  membership: Membership;
  storage: MemoryStorage;
  snapshotter: Snapshotter;
  wal: Wal;
  snapshotCount: number;
  catchUpEntries?: number;
}

export class Snapshotting {
  constructor(readonly deps: SnapshottingDeps) {}

  async maybeSnapshot(): Promise<void> {
    const { applied, snapshotCount } = this.deps;
    if (applied.index - applied.snapshotIndex <= snapshotCount) return;
    await this.snapshot(applied.index);
  }

  async snapshot(index: number): Promise<void> {
    const { log, applied, backend, membership, storage, snapshotter, wal } = this.deps;
    backend.commit({ sync: true });
    const data = new TextEncoder().encode(JSON.stringify(membership.toJSON()));
    const snap = storage.createSnapshot(index, applied.confState, data);
    await snapshotter.save(snap);
    await wal.saveSnapshot(snap.metadata);
    applied.snapshotIndex = snap.metadata.index;
    applied.snapshotTerm = snap.metadata.term;
    log.info({
      pkg: "etcdserver",
      text: `saved snapshot at index ${index}`,
      msg: "saved snapshot",
      fields: { "snapshot-index": index, "local-member-id": formatId(this.deps.memberId) },
    });
    const compactTo = index - (this.deps.catchUpEntries ?? SNAPSHOT_CATCH_UP_ENTRIES);
    if (compactTo > storage.firstIndex()) {
      storage.compact(compactTo);
      log.info({
        pkg: "etcdserver",
        text: `compacted raft log at ${compactTo}`,
        msg: "compacted Raft logs",
        fields: { "compact-index": compactTo },
      });
    }
    // Segments wholly below the snapshot are no longer needed to restart (entries the
    // in-memory log keeps for followers stay there): the purge loop may delete them.
    await wal.releaseTo(snap.metadata.index);
    if (failpoints.on) await hit("raftAfterWALRelease");
  }

  /**
   * What a leader sends in place of Raft's stored snapshot (etcd's merged snapshot): the backend
   * at the applied index, with that index's term and configuration. The stored snapshot may
   * predate the receiver's own addition to the cluster, and Raft refuses a snapshot without it.
   */
  merged(): Snapshot {
    const { backend, applied } = this.deps;
    const data = backend.store.snapshotBytes();
    const { index, term, confState } = applied;
    return { metadata: { index, term, confState }, data };
  }
}
