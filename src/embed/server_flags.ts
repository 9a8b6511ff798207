// The flags of issue 13's second part as the server takes them: file purging, auto-compaction,
// corruption checks, storage and apply settings, the election tick advance.
import type { Config } from "../config/mod.ts";
import type { ServerOptions } from "../server/mod.ts";

export function serverFlags(config: Config): Partial<ServerOptions> {
  return {
    upkeep: {
      maxSnapshots: config.maxSnapshots,
      maxWals: config.maxWals,
      autoCompactionMode: config.autoCompactionMode,
      autoCompactionRetention: config.compactionRetention,
      corruptCheckTimeMs: config.experimentalCorruptCheckTime,
    },
    compactionBatchLimit: config.experimentalCompactionBatchLimit,
    unsafeNoFsync: config.unsafeNoFsync,
    warningApplyDurationMs: config.experimentalWarningApplyDuration,
    initialElectionTickAdvance: config.initialElectionTickAdvance,
  };
}
