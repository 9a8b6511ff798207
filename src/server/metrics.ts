// Gauges of one member's state, read at each scrape: leadership, raft indexes, the backend's
// size and key count, watchers, the auth revision, versions.
import type { MemoryStorage, RawNode } from "../raft/mod.ts";
import { ETCD_VERSION } from "../config/mod.ts";
import type { WatcherHub } from "../mvcc/mod.ts";
import type { V2Store } from "../v2store/mod.ts";
import {
  authMetrics,
  mvccMetrics,
  registry,
  serverMetrics,
  v2StoreMetrics,
} from "../metrics/mod.ts";
import type { Backend } from "./backend.ts";
import type { Membership } from "./membership.ts";
import type { RaftStatus } from "./raft_status.ts";

/** etcd's default quota when --quota-backend-bytes is 0. */
const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

export interface ObservedMember {
  raft: RaftStatus;
  node: RawNode;
  storage: MemoryStorage;
  membership: Membership;
  backend: Backend;
  watchers: WatcherHub;
  v2: V2Store;
  authRevision(): number;
  appliedIndex(): number;
  quotaBackendBytes: number;
}

export function observeMember(m: ObservedMember): void {
  serverMetrics.version.labels({ server_version: ETCD_VERSION }).set(1);
  serverMetrics.quotaBackendBytes.set(
    m.quotaBackendBytes === 0 ? DEFAULT_QUOTA_BYTES : m.quotaBackendBytes,
  );
  registry.addCollector(() => {
    const s = serverMetrics;
    const { raft } = m;
    s.hasLeader.set(raft.leader !== 0n ? 1 : 0);
    s.isLeader.set(raft.isLeader ? 1 : 0);
    s.isLearner.set(m.membership.get(raft.memberId)?.isLearner ? 1 : 0);
    s.leaderChanges.mirror(raft.leaderChanges);
    s.id.labels({ server_id: raft.memberId.toString(16) }).set(1);
    const cv = m.membership.version;
    if (cv) {
      s.clusterVersion.labels({ cluster_version: cv.split(".").slice(0, 2).join(".") }).set(1);
    }
    s.proposalsCommitted.set(m.node.status().hardState.commit);
    s.proposalsApplied.set(m.appliedIndex());
    const raftLog = m.storage.stats();
    s.raftLogEntries.set(raftLog.entries);
    s.raftLogBytes.set(raftLog.bytes);
    authMetrics.revision.set(m.authRevision());
    v2StoreMetrics.watchers.set(m.v2.stats().watchers);
    observeStore(m);
  });
}

function observeStore(m: ObservedMember): void {
  const store = m.backend.store;
  const mv = mvccMetrics;
  mv.dbTotalSize.set(store.dbSize());
  mv.dbTotalSizeDebugging.set(store.dbSize());
  mv.dbTotalSizeInUse.set(store.dbSizeInUse());
  mv.keysTotal.set(store.keyCount());
  mv.currentRevision.set(store.rev());
  mv.compactRevision.set(store.compactRevision());
  const w = m.watchers.stats();
  mv.watchStreams.set(w.streams);
  mv.watchers.set(w.syncedWatchers + w.unsyncedWatchers);
  mv.slowWatchers.set(w.unsyncedWatchers);
  mv.pendingEvents.set(w.bufferedEvents);
}
