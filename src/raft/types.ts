// Data types of the Raft core, shaped after etcd's raftpb so the codec maps them one to one.

export enum EntryType {
  Normal = 0,
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** The state that must be durable before messages that depend on it leave the node. */
export interface HardState {
  term: number;
  vote: bigint; // 0n = none
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

export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  UpdateNode = 2,
  AddLearnerNode = 3,
}

export interface ConfChange {
  id: number;
  type: ConfChangeType;
  nodeId: bigint;
  context: Uint8Array;
}

/** Numbered as etcd's raftpb.MessageType, so values cross the wire unchanged. */
export enum MessageType {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
}

export interface Message {
  type: MessageType;
  to: bigint;
  from: bigint;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
}

export enum StateType {
  Follower = 0,
  Candidate = 1,
  Leader = 2,
  PreCandidate = 3,
}

export interface SoftState {
  lead: bigint;
  raftState: StateType;
}

/** Answer to a readIndex(ctx): the request may be served once `index` is applied. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

export interface RaftLogger {
  info(msg: string): void;
  warn(msg: string): void;
  debug(msg: string): void;
}

export interface RaftConfig {
  id: bigint;
  /** Ticks a follower waits without hearing from a leader; randomized to [e, 2e). */
  electionTick: number;
  heartbeatTick: number;
  storage: import("./storage.ts").Storage;
  /** Last index the application has applied; committed entries up to it are not handed out again. */
  applied?: number;
  maxSizePerMsg?: number;
  maxInflightMsgs?: number;
  checkQuorum?: boolean;
  preVote?: boolean;
  /** Uniform in [0, 1); the only source of randomness (election timeouts). */
  random: () => number;
  logger?: RaftLogger;
}

export enum ProgressStateType {
  Probe = 0,
  Replicate = 1,
  Snapshot = 2,
}

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressStateType;
  isLearner: boolean;
  recentActive: boolean;
  pendingSnapshot: number;
  paused: boolean;
}

export interface RaftStatus {
  id: bigint;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  /** Followers' replication progress; filled only on the leader. */
  progress: Map<bigint, ProgressStatus>;
  leadTransferee: bigint;
  config: ConfState;
}

export class RaftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RaftError";
  }
}

export const ErrProposalDropped = new RaftError("raft proposal dropped");
export const ErrStepLocalMsg = new RaftError("raft: cannot step raft local message");
export const ErrStepPeerNotFound = new RaftError("raft: cannot step as peer not found");
export const ErrCompacted = new RaftError("requested index is unavailable due to compaction");
export const ErrSnapOutOfDate = new RaftError(
  "requested index is older than the existing snapshot",
);
export const ErrUnavailable = new RaftError("requested entry at index is unavailable");
export const ErrSnapshotTemporarilyUnavailable = new RaftError(
  "snapshot is temporarily unavailable",
);

export const None = 0n;

/**
 * Everything the node wants done, handed out by RawNode.ready() and acknowledged by advance().
 *
 * Order of work for the application, as in etcd:
 *  1. Persist `snapshot` (if any), `entries` and `hardState` (if any); fsync when `mustSync`.
 *  2. Send `messages`. A follower or candidate must not send before step 1 is durable: its
 *     MsgAppResp acknowledges entries as stored and its MsgVote/MsgVoteResp rely on the
 *     persisted term and vote. A leader may send its messages while its own append of
 *     `entries` is still in flight (its MsgApp carry the very entries it is writing; the
 *     commit index it advertises only counts entries of earlier, already durable Readies),
 *     provided `hardState` carries no new term or vote — see leaderMaySendBeforePersist().
 *  3. Apply `snapshot`, then `committedEntries`, in order, after step 1 is durable
 *     (a single-member cluster commits entries that are in this same Ready's `entries`).
 *     ConfChange entries are applied by calling RawNode.applyConfChange().
 *  4. Call advance(rd).
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  readStates: ReadState[];
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  mustSync: boolean;
}
