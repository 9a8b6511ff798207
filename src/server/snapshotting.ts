// Raft snapshots every --snapshot-count applied entries, so the log (in memory and on disk)
// stays bounded. The key space lives in the backend, not in the snapshot: the backend is first
// made durable with its consistent index, and only then may log entries below it go.
import type { Snapshot } from "../raft/mod.ts";
import { formatId } from "./ids.ts";
import type { EtcdServer } from "./server.ts";

/** Entries kept after a snapshot so slow followers can catch up from the log (etcd's value). */
export const SNAPSHOT_CATCH_UP_ENTRIES = 5000;

/** Snapshot and WAL files kept (etcd's --max-snapshots / --max-wals defaults). */
const KEEP_SNAPSHOTS = 5;

export class Snapshotting {
  constructor(
    readonly server: EtcdServer,
    readonly snapshotCount: number,
    readonly catchUpEntries = SNAPSHOT_CATCH_UP_ENTRIES,
  ) {}

  async maybeSnapshot(): Promise<void> {
    const s = this.server;
    const applied = s.applier.appliedIndex;
    if (applied - s.state.snapshotIndex <= this.snapshotCount) return;
    await this.snapshot(applied);
  }

  async snapshot(applied: number): Promise<void> {
    const s = this.server;
    const { state } = s;
    s.backend.commit({ sync: true });
    const data = new TextEncoder().encode(JSON.stringify(state.membership.toJSON()));
    const snap = state.storage.createSnapshot(applied, state.confState, data);
    await state.snapshotter.save(snap);
    await state.wal.saveSnapshot(snap.metadata);
    state.snapshotIndex = snap.metadata.index;
    state.snapshotTerm = snap.metadata.term;
    s.log.info({
      pkg: "etcdserver",
      text: `saved snapshot at index ${applied}`,
      msg: "saved snapshot",
      fields: { "snapshot-index": applied, "local-member-id": formatId(s.memberId) },
    });
    const compactTo = applied - this.catchUpEntries;
    if (compactTo > state.storage.firstIndex()) {
      state.storage.compact(compactTo);
      s.log.info({
        pkg: "etcdserver",
        text: `compacted raft log at ${compactTo}`,
        msg: "compacted Raft logs",
        fields: { "compact-index": compactTo },
      });
    }
    // Segments wholly below the snapshot are no longer needed to restart; entries the
    // in-memory log keeps for followers stay there.
    await state.wal.releaseTo(snap.metadata.index);
    await state.snapshotter.purge(KEEP_SNAPSHOTS);
  }
}

/**
 * What a leader sends in place of Raft's stored snapshot (etcd's merged snapshot): the backend
 * at the applied index, with that index's term and configuration. The stored snapshot may
 * predate the receiver's own addition to the cluster, and Raft refuses a snapshot without it.
 */
export function mergedSnapshot(s: EtcdServer): Snapshot {
  const data = s.backend.store.snapshotBytes();
  const { appliedIndex: index, appliedTerm: term } = s.applier;
  return { metadata: { index, term, confState: s.state.confState }, data };
}
