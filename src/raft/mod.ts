// Public surface of the pure Raft core.

export * from "./types.ts";
export { MemoryStorage, type Storage } from "./storage.ts";
export { RawNode } from "./rawnode.ts";
export {
  decodeConfChange,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  decodeSnapshotMetadata,
  encodeConfChange,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  encodeSnapshotMetadata,
  entrySize,
  writeEntry,
} from "./codec.ts";
export { isEmptyHardState, isEmptySnap, isLocalMsg, isResponseMsg } from "./util.ts";
