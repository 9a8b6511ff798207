// What the store offers beside its class (etcd's mvcc/kv.go): how it is opened, its read txn,
// its HashKV answer and who hears its events.
import type { TxnTally } from "../metrics/mod.ts";
import type { CompactionBatch } from "./compact.ts";
import type { Event, RangeOptions, RangeResult } from "./types.ts";

export interface StoreOptions {
  // Revisions examined per physical compaction step (etcd's compaction batch limit).
  compactionBatch?: number;
  // Pause between physical compaction steps, in ms.
  compactionPauseMs?: number;
  // false: physical compaction advances only through compactStep() (deterministic tests).
  autoCompact?: boolean;
  // Told after every physical compaction batch, with how long it took (etcd's metrics).
  onCompactionBatch?: (batch: CompactionBatch, ms: number) => void;
  // Told when a commit fails, whoever committed (a batch, a snapshot, a compaction), before the
  // error is thrown: what reached the file is unknown, so the owner must stop (etcd's fatal).
  onCommitError?: (err: unknown) => void;
}

// etcd's default --experimental-compaction-batch-limit.
export const DEFAULT_COMPACTION_BATCH = 1000;

export interface HashKV {
  hash: number;
  compactRevision: number;
  // The store's current revision when hashed.
  rev: number;
}

export type EventListener = (events: Event[]) => void;

/** Several ranges at one revision (etcd's TxnRead); its counts go to the metrics at `end`. */
export interface ReadTxn {
  readonly tally: TxnTally;
  range(key: Uint8Array, rangeEnd?: Uint8Array, opts?: RangeOptions): RangeResult;
  end(): void;
}
