// Raft's persistent types, declared structurally with the exact shapes of src/raft's
// contract so that values flow between the two modules without conversion. Replace with
// re-exports from "../raft/mod.ts" once that module exports them.

export interface Entry {
  term: number;
  index: number;
  /** raft's EntryType (0 Normal, 1 ConfChange); a plain number so that raft's enum and this
   * declaration are assignable to each other. */
  type: number;
  data: Uint8Array;
}

/** vote 0n means "voted for nobody". */
export interface HardState {
  term: number;
  vote: bigint;
  commit: number;
}

export interface ConfState {
  voters: bigint[];
  learners: bigint[];
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}
