// How a member is configured: what embed/ hands EtcdServer from the flags and the opened state.
import type { CheckpointOptions } from "../lease/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Versions } from "./cluster_version.ts";
import type { MemberState } from "./member_state.ts";
import type { UpkeepOptions } from "./upkeep.ts";

/**
 * What etcd allows on top of --max-request-bytes for a gRPC message: the largest request its
 * gRPC server receives, and the size past which a fragmenting watcher's response is split.
 */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

export interface ServerOptions {
  logger: Logger;
  state: MemberState;
  name: string;
  clientURLs: string[];
  heartbeatMs: number;
  electionMs: number;
  snapshotCount: number;
  /** Entries kept in the raft log after a snapshot, for slow followers (unset: etcd's 5000). */
  snapshotCatchUpEntries?: number;
  strictReconfigCheck: boolean;
  maxTxnOps: number;
  maxRequestBytes: number;
  /** Backend size that raises the NOSPACE alarm; 0 or less disables the quota. */
  quotaBackendBytes: number;
  /** --backend-batch-interval in ms and --backend-batch-limit; 0 or unset keeps etcd's default. */
  backendBatchIntervalMs?: number;
  backendBatchLimit?: number;
  /** --auth-token-ttl in seconds (300 if unset). */
  authTokenTtl?: number;
  /** --auth-token, already checked at start-up ("simple" if unset). */
  authToken?: string;
  /** --client-cert-auth: a verified client certificate's CN is the user when auth is on. */
  clientCertAuth?: boolean;
  /** --bcrypt-cost for passwords hashed here. */
  bcryptCost: number;
  /** Purging, auto-compaction and the periodic corruption check (see upkeep.ts). */
  upkeep?: UpkeepOptions;
  /** --experimental-compaction-batch-limit: revisions per physical compaction batch. */
  compactionBatchLimit?: number;
  /** --unsafe-no-fsync: neither the log nor the backend is fsync'd. */
  unsafeNoFsync?: boolean;
  /** --experimental-warning-apply-duration in ms (unset: etcd's 100 ms). */
  warningApplyDurationMs?: number;
  /** --initial-election-tick-advance (unset: true). */
  initialElectionTickAdvance?: boolean;
  /**
   * --experimental-enable-lease-checkpoint (with -persist and the interval); unset: the leader
   * never checkpoints, and a new leader gives leases their full TTLs.
   */
  leaseCheckpoint?: CheckpointOptions;
  /** A member's GET /version over its peer URLs (undefined when none answers). */
  peerVersion(peerURLs: string[]): Promise<Versions | undefined>;
  /** Injected for tests; Date.now otherwise. */
  now?: () => number;
}
