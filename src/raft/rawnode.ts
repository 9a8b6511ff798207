// RawNode: the application's handle on the Raft state machine. Input goes in through
// tick/step/propose/...; output comes out as a Ready, acknowledged with advance().

import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  EntryType,
  ErrStepLocalMsg,
  ErrStepPeerNotFound,
  type HardState,
  type Message,
  MessageType,
  None,
  type RaftConfig,
  type RaftStatus,
  type Ready,
  type SoftState,
  StateType,
} from "./types.ts";
import { Raft } from "./raft.ts";
import { applyConfChange } from "./membership.ts";
import { encodeConfChange } from "./codec.ts";
import {
  emptyHardState,
  hex,
  isEmptyHardState,
  isHardStateEqual,
  isLocalMsg,
  isResponseMsg,
  newEntry,
  newMessage,
} from "./util.ts";

export class RawNode {
  /** The state machine itself; exposed for tests and the simulator, not for servers. */
  readonly raft: Raft;
  private prevSoftSt: SoftState;
  private prevHardSt: HardState;
  /** Readies whose messages may leave before their entries are durable (see Ready). */
  private earlySend = new WeakSet<Ready>();

  constructor(cfg: RaftConfig) {
    this.raft = new Raft(cfg);
    this.prevSoftSt = this.raft.softState();
    this.prevHardSt = this.raft.hardState();
  }

  /**
   * Starts a new cluster: one committed AddNode ConfChange entry per peer at indexes 1..n,
   * term 1. The application persists and applies them from the first Ready like any other
   * entries (applying an AddNode twice is harmless).
   */
  bootstrap(peers: { id: bigint; context: Uint8Array }[]): void {
    const r = this.raft;
    if (peers.length === 0) throw new Error("must provide at least one peer to Bootstrap");
    if (r.raftLog.lastIndex() !== 0) throw new Error("can't bootstrap a nonempty Storage");
    // Nothing is persisted yet: the first Ready must carry the HardState.
    this.prevHardSt = emptyHardState();
    r.becomeFollower(1, None);
    const ents = peers.map((p, i) =>
      newEntry({
        type: EntryType.ConfChange,
        term: 1,
        index: i + 1,
        data: encodeConfChange({
          id: 0,
          type: ConfChangeType.AddNode,
          nodeId: p.id,
          context: p.context,
        }),
      })
    );
    r.raftLog.append(ents);
    r.raftLog.committed = ents.length;
    for (const p of peers) {
      applyConfChange(r, {
        id: 0,
        type: ConfChangeType.AddNode,
        nodeId: p.id,
        context: new Uint8Array(0),
      });
    }
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (pre-vote first when configured). */
  campaign(): void {
    this.stepLocal(newMessage({ type: MessageType.MsgHup }));
  }

  /** Proposes data to be appended; throws ErrProposalDropped when it cannot be. */
  propose(data: Uint8Array): void {
    this.proposeAll([data]);
  }

  /** Proposes several entries, in order, in one MsgProp: one append and one MsgApp per peer. */
  proposeAll(data: Uint8Array[]): void {
    this.stepLocal(newMessage({
      type: MessageType.MsgProp,
      from: this.raft.id,
      entries: data.map((d) => ({ term: 0, index: 0, type: EntryType.Normal, data: d })),
    }));
  }

  proposeConfChange(cc: ConfChange): void {
    this.stepLocal(newMessage({
      type: MessageType.MsgProp,
      from: this.raft.id,
      entries: [newEntry({ type: EntryType.ConfChange, data: encodeConfChange(cc) })],
    }));
  }

  /**
   * Feeds a message from a peer. Throws ErrStepLocalMsg for local-only message types,
   * ErrStepPeerNotFound for responses from non-members and ErrProposalDropped for a forwarded
   * proposal the leader cannot take, as etcd's RawNode.Step returns them.
   */
  step(m: Message): void {
    if (isLocalMsg(m.type)) throw ErrStepLocalMsg;
    if (!this.raft.prs.progress.has(m.from) && isResponseMsg(m.type)) throw ErrStepPeerNotFound;
    this.stepLocal(m);
  }

  private stepLocal(m: Message): void {
    const err = this.raft.step(m);
    if (err) throw err;
  }

  /** Requests a linearizable read; the answer arrives as a ReadState carrying ctx. */
  readIndex(ctx: Uint8Array): void {
    this.stepLocal(
      newMessage({ type: MessageType.MsgReadIndex, entries: [newEntry({ data: ctx })] }),
    );
  }

  /** Asks the leader (directly or via forwarding) to hand leadership to `to`. */
  transferLeader(to: bigint): void {
    this.stepLocal(newMessage({ type: MessageType.MsgTransferLeader, from: to }));
  }

  /** Applies a committed ConfChange entry's change; returns the new configuration. */
  applyConfChange(cc: ConfChange): ConfState {
    if (cc.nodeId === None) return this.raft.prs.confState();
    return applyConfChange(this.raft, cc);
  }

  reportUnreachable(id: bigint): void {
    this.raft.step(newMessage({ type: MessageType.MsgUnreachable, from: id }));
  }

  reportSnapshot(id: bigint, ok: boolean): void {
    this.raft.step(newMessage({ type: MessageType.MsgSnapStatus, from: id, reject: !ok }));
  }

  hasReady(): boolean {
    const r = this.raft;
    if (!softStateEqual(r.softState(), this.prevSoftSt)) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !isHardStateEqual(hs, this.prevHardSt)) return true;
    if (r.raftLog.unstable.snapshot) return true;
    return r.msgs.length > 0 || r.raftLog.unstable.entries.length > 0 ||
      r.raftLog.hasNextEnts() || r.readStates.length > 0;
  }

  /** Collects pending work; messages and read states are handed out exactly once. */
  ready(): Ready {
    const r = this.raft;
    const rd: Ready = {
      entries: r.raftLog.unstableEntries(),
      committedEntries: r.raftLog.nextEnts(),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: false,
    };
    const soft = r.softState();
    if (!softStateEqual(soft, this.prevSoftSt)) {
      this.logLeaderChange(this.prevSoftSt.lead, soft.lead);
      rd.softState = soft;
      this.prevSoftSt = soft;
    }
    const hs = r.hardState();
    if (!isHardStateEqual(hs, this.prevHardSt)) rd.hardState = hs;
    if (r.raftLog.unstable.snapshot) rd.snapshot = r.raftLog.unstable.snapshot;
    const termOrVoteChanged = hs.term !== this.prevHardSt.term || hs.vote !== this.prevHardSt.vote;
    rd.mustSync = rd.entries.length > 0 || termOrVoteChanged;
    if (r.state === StateType.Leader && !termOrVoteChanged) this.earlySend.add(rd);
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /**
   * Whether rd's messages may be sent before its entries are durable: true only for a
   * leader whose term and vote are already durable (etcd's leader writes its log in parallel
   * with replication, Raft thesis §10.2.1). Everyone else persists first.
   */
  maySendBeforePersist(rd: Ready): boolean {
    return this.earlySend.has(rd);
  }

  /** Acknowledges that rd was persisted and its committed entries applied. */
  advance(rd: Ready): void {
    const r = this.raft;
    if (rd.hardState) this.prevHardSt = rd.hardState;
    const n = rd.committedEntries.length;
    if (n > 0) r.raftLog.appliedTo(rd.committedEntries[n - 1].index);
    else if (rd.snapshot) r.raftLog.appliedTo(rd.snapshot.metadata.index);
    if (rd.entries.length > 0) {
      const e = rd.entries[rd.entries.length - 1];
      r.raftLog.stableTo(e.index, e.term);
    }
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
  }

  status(): RaftStatus {
    const r = this.raft;
    const progress = new Map();
    if (r.state === StateType.Leader) {
      for (const [id, pr] of r.prs.progress) progress.set(id, pr.status());
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      progress,
      leadTransferee: r.leadTransferee,
      config: r.prs.confState(),
    };
  }

  private logLeaderChange(prev: bigint, lead: bigint): void {
    const r = this.raft;
    if (prev === lead) return;
    if (lead === None) {
      r.logger.info(`raft.node: ${hex(r.id)} lost leader ${hex(prev)} at term ${r.term}`);
    } else if (prev === None) {
      r.logger.info(`raft.node: ${hex(r.id)} elected leader ${hex(lead)} at term ${r.term}`);
    } else {
      r.logger.info(
        `raft.node: ${hex(r.id)} changed leader from ${hex(prev)} to ${
          hex(lead)
        } at term ${r.term}`,
      );
    }
  }
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState;
}
