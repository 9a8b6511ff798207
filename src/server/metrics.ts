// Gauges of one member's state, read at each scrape: leadership, raft indexes, the backend's
// size and key count, versions.

import { ETCD_VERSION } from "../config/mod.ts";
import type { EtcdServer } from "./server.ts";
import { mvccMetrics, registry, serverMetrics } from "../metrics/mod.ts";

// The whole key space: key "\0" with range end "\0".
const ALL = new Uint8Array([0]);

/** etcd's default quota when --quota-backend-bytes is 0. */
const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

export function observeMember(server: EtcdServer, opts: { quotaBackendBytes: number }): void {
  serverMetrics.version.labels({ server_version: ETCD_VERSION }).set(1);
  serverMetrics.quotaBackendBytes.set(
    opts.quotaBackendBytes === 0 ? DEFAULT_QUOTA_BYTES : opts.quotaBackendBytes,
  );
  registry.addCollector(() => {
    const s = serverMetrics;
    s.hasLeader.set(server.leader !== 0n ? 1 : 0);
    s.isLeader.set(server.isLeader ? 1 : 0);
    s.isLearner.set(server.state.membership.get(server.memberId)?.isLearner ? 1 : 0);
    s.leaderChanges.mirror(server.leaderChanges);
    s.id.labels({ server_id: server.memberId.toString(16) }).set(1);
    const cv = server.clusterVersion();
    if (cv) {
      s.clusterVersion.labels({ cluster_version: cv.split(".").slice(0, 2).join(".") }).set(1);
    }
    s.proposalsCommitted.set(server.node.status().hardState.commit);
    s.proposalsApplied.set(server.applier.appliedIndex);

    const store = server.backend.store;
    const m = mvccMetrics;
    m.dbTotalSize.set(store.dbSize());
    m.dbTotalSizeDebugging.set(store.dbSize());
    m.dbTotalSizeInUse.set(store.dbSizeInUse());
    m.keysTotal.set(store.range(ALL, ALL, { countOnly: true }).count);
    m.currentRevision.set(store.rev());
    m.compactRevision.set(store.compactRevision());
  });
}
