// The Raft state machine (etcd's `raft` struct): terms, roles, elections and the message
// dispatch. It is pure: input arrives through step() and tick(), output accumulates in
// msgs/readStates and the log's unstable part, and RawNode hands it out as a Ready.

import {
  type Entry,
  type HardState,
  type Message,
  MessageType,
  None,
  type RaftConfig,
  type RaftLogger,
  type ReadState,
  type SoftState,
  StateType,
} from "./types.ts";
import { RaftLog } from "./log.ts";
import { ProgressTracker } from "./tracker.ts";
import { ReadOnly } from "./read_only.ts";
import { hex, msgName, newEntry, newMessage } from "./util.ts";
import { stepCandidate, stepFollower } from "./step.ts";
import { stepLeader } from "./step_leader.ts";
import { handleVote, hup, rejectVote, voteDesc } from "./election.ts";
import { restoreConfState } from "./membership.ts";

export enum CampaignType {
  PreElection = "CampaignPreElection",
  Election = "CampaignElection",
  Transfer = "CampaignTransfer",
}

/** Context of a MsgVote sent on leader transfer: it overrides the voters' leader lease. */
export const campaignTransferCtx = new TextEncoder().encode(CampaignType.Transfer);

type StepFn = (r: Raft, m: Message) => Error | undefined;

const discard: RaftLogger = { info() {}, warn() {}, debug() {} };

export function validateConfig(c: RaftConfig): void {
  if (c.id === None) throw new Error("cannot use none as id");
  if (c.heartbeatTick <= 0) throw new Error("heartbeat tick must be greater than 0");
  if (c.electionTick <= c.heartbeatTick) {
    throw new Error("election tick must be greater than heartbeat tick");
  }
  if (!c.storage) throw new Error("storage cannot be nil");
  if ((c.maxInflightMsgs ?? 256) <= 0) {
    throw new Error("max inflight messages must be greater than 0");
  }
}

export class Raft {
  readonly id: bigint;
  term = 0;
  vote = None;
  readStates: ReadState[] = [];
  raftLog: RaftLog;
  readonly maxMsgSize: number;
  prs: ProgressTracker;
  state = StateType.Follower;
  isLearner = false;
  msgs: Message[] = [];
  lead = None;
  /** Target of an ongoing leadership transfer; proposals are refused meanwhile. */
  leadTransferee = None;
  /** Index of the newest conf change that may still be unapplied; one at a time. */
  pendingConfIndex = 0;
  readOnly = new ReadOnly();
  /** ReadIndex requests that arrived before the leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  randomizedElectionTimeout = 0;
  readonly logger: RaftLogger;
  private readonly random: () => number;
  private stepFn: StepFn = stepFollower;
  private tickFn: () => void = () => this.tickElection();

  constructor(c: RaftConfig) {
    validateConfig(c);
    this.id = c.id;
    this.logger = c.logger ?? discard;
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024;
    this.raftLog = new RaftLog(c.storage, this.logger, this.maxMsgSize);
    this.prs = new ProgressTracker(c.maxInflightMsgs ?? 256);
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.heartbeatTimeout = c.heartbeatTick;
    this.electionTimeout = c.electionTick;
    this.random = c.random;
    const { hardState, confState } = c.storage.initialState();
    restoreConfState(this, confState);
    if (hardState.term !== 0 || hardState.vote !== None || hardState.commit !== 0) {
      this.loadState(hardState);
    }
    if (c.applied && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, None);
    const peers = this.prs.ids().map(hex).join(",");
    this.logger.info(
      `newRaft ${
        hex(this.id)
      } [peers: [${peers}], term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  hasLeader(): boolean {
    return this.lead !== None;
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /** Queues a message; the term is stamped here except where the protocol sets it itself. */
  send(m: Message): void {
    if (m.from === None) m.from = this.id;
    const t = m.type;
    if (
      t === MessageType.MsgVote || t === MessageType.MsgVoteResp ||
      t === MessageType.MsgPreVote || t === MessageType.MsgPreVoteResp
    ) {
      // Vote messages carry the term being voted on, which may differ from ours (pre-vote).
      if (m.term === 0) throw new Error(`term should be set when sending ${msgName(t)}`);
    } else {
      if (m.term !== 0) {
        throw new Error(`term should not be set when sending ${msgName(t)} (was ${m.term})`);
      }
      // Proposals and read requests forwarded to the leader act as local messages there.
      if (t !== MessageType.MsgProp && t !== MessageType.MsgReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  tick(): void {
    this.tickFn();
  }

  /** Followers and candidates: start an election when the randomized timeout passes. */
  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(newMessage({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  /** Leaders: heartbeats, CheckQuorum and the leader-transfer deadline. */
  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        this.step(newMessage({ type: MessageType.MsgCheckQuorum, from: this.id }));
      }
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== None) {
        this.abortLeaderTransfer();
      }
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(newMessage({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  resetRandomizedElectionTimeout(): void {
    const r = Math.floor(this.random() * this.electionTimeout);
    this.randomizedElectionTimeout = this.electionTimeout + Math.min(r, this.electionTimeout - 1);
  }

  /** Whether this node may become leader: it is a voter in its own configuration. */
  promotable(): boolean {
    const pr = this.prs.progress.get(this.id);
    return pr !== undefined && !pr.isLearner;
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = None;
    }
    this.lead = None;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.prs.resetVotes();
    const last = this.raftLog.lastIndex();
    for (const [id, pr] of this.prs.progress) {
      pr.becomeProbe();
      pr.match = id === this.id ? last : 0;
      pr.next = last + 1;
      pr.recentActive = false;
    }
    this.pendingConfIndex = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: bigint): void {
    this.stepFn = stepFollower;
    this.reset(term);
    this.tickFn = () => this.tickElection();
    this.lead = lead;
    this.state = StateType.Follower;
    this.logger.info(`${hex(this.id)} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    if (this.state === StateType.Leader) {
      throw new Error("invalid transition [leader -> candidate]");
    }
    this.stepFn = stepCandidate;
    this.reset(this.term + 1);
    this.tickFn = () => this.tickElection();
    this.vote = this.id;
    this.state = StateType.Candidate;
    this.logger.info(`${hex(this.id)} became candidate at term ${this.term}`);
  }

  becomePreCandidate(): void {
    if (this.state === StateType.Leader) {
      throw new Error("invalid transition [leader -> pre-candidate]");
    }
    // A pre-candidate changes neither term nor vote: a lost pre-election leaves no trace.
    this.stepFn = stepCandidate;
    this.prs.resetVotes();
    this.tickFn = () => this.tickElection();
    this.lead = None;
    this.state = StateType.PreCandidate;
    this.logger.info(`${hex(this.id)} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    if (this.state === StateType.Follower) {
      throw new Error("invalid transition [follower -> leader]");
    }
    this.stepFn = stepLeader;
    this.reset(this.term);
    this.tickFn = () => this.tickHeartbeat();
    this.lead = this.id;
    this.state = StateType.Leader;
    // Our own progress is always in replicate state: we never send ourselves appends.
    this.prs.progress.get(this.id)?.becomeReplicate();
    // Entries before our own last index may hold an unapplied conf change: be conservative.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // The empty entry of our term lets us commit, and so learn the commit index (§5.4.2, §8).
    this.appendEntry([newEntry({})]);
    this.logger.info(`${hex(this.id)} became leader at term ${this.term}`);
  }

  /** Entry point for every message, local or remote. */
  step(m: Message): Error | undefined {
    // A message of another term is settled here, before the role's step function sees it.
    if (m.term === 0) {
      // Local message.
    } else if (m.term > this.term) {
      if (!this.acceptsHigherTerm(m)) return undefined;
    } else if (m.term < this.term) {
      this.answerLowerTerm(m);
      return undefined;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        hup(this, this.preVote ? CampaignType.PreElection : CampaignType.Election);
        return undefined;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        handleVote(this, m);
        return undefined;
      default:
        return this.stepFn(this, m);
    }
  }

  /**
   * A message of a later term: as a rule we follow that term (and its sender, if it is the
   * leader). False if the message is ignored: a vote request while our leader's lease holds.
   */
  private acceptsHigherTerm(m: Message): boolean {
    if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
      const force = sameBytes(m.context, campaignTransferCtx);
      const inLease = this.checkQuorum && this.lead !== None &&
        this.electionElapsed < this.electionTimeout;
      if (!force && inLease) {
        // We heard from a live leader recently: a disruptive candidate is not followed.
        this.logger.info(
          `${voteDesc(this)} ignored ${msgName(m.type)} from ${
            hex(m.from)
          } [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${
            this.electionTimeout - this.electionElapsed
          })`,
        );
        return false;
      }
    }
    if (m.type === MessageType.MsgPreVote) {
      // Never change our term in response to a pre-vote.
    } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
      // Granted pre-votes carry the future term; we advance only on winning the pre-election.
    } else {
      this.logger.info(
        `${hex(this.id)} [term: ${this.term}] received a ${
          msgName(m.type)
        } message with higher term from ${hex(m.from)} [term: ${m.term}]`,
      );
      const fromLeader = m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat ||
        m.type === MessageType.MsgSnap;
      this.becomeFollower(m.term, fromLeader ? m.from : None);
    }
    return true;
  }

  /** A message of an earlier term is never stepped; some senders need our term back. */
  private answerLowerTerm(m: Message): void {
    if (
      (this.checkQuorum || this.preVote) &&
      (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)
    ) {
      // A stale leader (say, after a partition heals) learns our term from this response and
      // steps down; otherwise a node with higher term could never rejoin under CheckQuorum.
      this.send(newMessage({ to: m.from, type: MessageType.MsgAppResp }));
    } else if (m.type === MessageType.MsgPreVote) {
      rejectVote(this, m);
    } else {
      this.logger.info(
        `${hex(this.id)} [term: ${this.term}] ignored a ${
          msgName(m.type)
        } message with lower term from ${hex(m.from)} [term: ${m.term}]`,
      );
    }
  }

  /** Appends proposals to the leader's log at its term and counts its own acknowledgement. */
  appendEntry(es: Entry[]): void {
    let li = this.raftLog.lastIndex();
    const stamped = es.map((e) => ({ ...e, term: this.term, index: ++li }));
    li = this.raftLog.append(stamped);
    this.prs.progress.get(this.id)?.maybeUpdate(li);
    // The caller broadcasts whatever this commits.
    this.maybeCommit();
  }

  /** Advances the commit index to what a majority has; true if it moved. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.prs.committed(), this.term);
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = None;
  }

  loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new Error(
        `${
          hex(this.id)
        } state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
      );
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
