// Role-specific message handling: what a leader, a (pre-)candidate and a follower do with
// each message once its term has been checked by Raft.step.

import {
  EntryType,
  ErrProposalDropped,
  type Message,
  MessageType,
  None,
  ProgressStateType,
  StateType,
} from "./types.ts";
import { CampaignType, type Raft } from "./raft.ts";
import { campaign, poll } from "./election.ts";
import { restore } from "./membership.ts";
import {
  bcastAppend,
  bcastHeartbeat,
  maybeSendAppend,
  sendAppend,
  sendTimeoutNow,
} from "./replication.ts";
import { VoteResult } from "./tracker.ts";
import { leaderReadIndex, readIndexAck, releasePendingReadIndexMessages } from "./read_index.ts";
import { hex, msgName, newEntry, newMessage } from "./util.ts";

export function stepLeader(r: Raft, m: Message): Error | undefined {
  switch (m.type) {
    case MessageType.MsgBeat:
      bcastHeartbeat(r);
      return undefined;
    case MessageType.MsgCheckQuorum: {
      // The leader always counts itself active (it may have just removed itself).
      const self = r.prs.progress.get(r.id);
      if (self) self.recentActive = true;
      if (!r.prs.quorumActive()) {
        r.logger.warn(`${hex(r.id)} stepped down to follower since quorum is not active`);
        r.becomeFollower(r.term, None);
      }
      for (const [id, pr] of r.prs.progress) if (id !== r.id) pr.recentActive = false;
      return undefined;
    }
    case MessageType.MsgProp:
      return propose(r, m);
    case MessageType.MsgReadIndex:
      leaderReadIndex(r, m);
      return undefined;
  }

  const pr = r.prs.progress.get(m.from);
  if (!pr) {
    r.logger.debug(`${hex(r.id)} no progress available for ${hex(m.from)}`);
    return undefined;
  }
  switch (m.type) {
    case MessageType.MsgAppResp:
      pr.recentActive = true;
      if (m.reject) {
        r.logger.debug(
          `${hex(r.id)} received MsgAppResp(MsgApp was rejected, lastindex: ${m.rejectHint}) from ${
            hex(m.from)
          } for index ${m.index}`,
        );
        if (pr.maybeDecrTo(m.index, m.rejectHint)) {
          r.logger.debug(`${hex(r.id)} decreased progress of ${hex(m.from)} to [${pr}]`);
          if (pr.state === ProgressStateType.Replicate) pr.becomeProbe();
          sendAppend(r, m.from);
        }
        return undefined;
      }
      {
        const oldPaused = pr.isPaused();
        if (!pr.maybeUpdate(m.index)) return undefined;
        if (pr.state === ProgressStateType.Probe) {
          pr.becomeReplicate();
        } else if (pr.state === ProgressStateType.Snapshot && pr.match >= pr.pendingSnapshot) {
          r.logger.debug(
            `${
              hex(r.id)
            } recovered from needing snapshot, resumed sending replication messages to ${
              hex(m.from)
            } [${pr}]`,
          );
          pr.becomeProbe();
          pr.becomeReplicate();
        } else if (pr.state === ProgressStateType.Replicate) {
          pr.inflights.freeLE(m.index);
        }
        if (r.maybeCommit()) {
          releasePendingReadIndexMessages(r);
          bcastAppend(r);
        } else if (oldPaused) {
          // The follower was paused and may now take more: do not wait for the next heartbeat.
          sendAppend(r, m.from);
        }
        // Flow control just opened up: send as many size-limited appends as now fit.
        while (maybeSendAppend(r, m.from, false)) { /* keep sending */ }
        if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
          r.logger.info(
            `${hex(r.id)} sent MsgTimeoutNow to ${hex(m.from)} after received MsgAppResp`,
          );
          sendTimeoutNow(r, m.from);
        }
      }
      return undefined;
    case MessageType.MsgHeartbeatResp: {
      pr.recentActive = true;
      pr.probeSent = false;
      // A full window may be stuck on lost messages: free one slot per heartbeat round.
      if (pr.state === ProgressStateType.Replicate && pr.inflights.full()) {
        pr.inflights.freeFirstOne();
      }
      if (pr.match < r.raftLog.lastIndex()) sendAppend(r, m.from);
      if (m.context.length > 0) readIndexAck(r, m);
      return undefined;
    }
    case MessageType.MsgSnapStatus:
      if (pr.state !== ProgressStateType.Snapshot) return undefined;
      if (!m.reject) {
        pr.becomeProbe();
        r.logger.debug(
          `${hex(r.id)} snapshot succeeded, resumed sending replication messages to ${
            hex(m.from)
          } [${pr}]`,
        );
      } else {
        // The snapshot did not arrive: forget it so that the next probe sends a fresh one.
        pr.pendingSnapshot = 0;
        pr.becomeProbe();
        r.logger.debug(
          `${hex(r.id)} snapshot failed, resumed sending replication messages to ${
            hex(m.from)
          } [${pr}]`,
        );
      }
      // Wait for the follower's MsgAppResp (or a heartbeat round) before the next append.
      pr.probeSent = true;
      return undefined;
    case MessageType.MsgUnreachable:
      // In replicate state a lost MsgApp is likely: fall back to probing.
      if (pr.state === ProgressStateType.Replicate) pr.becomeProbe();
      r.logger.debug(
        `${hex(r.id)} failed to send message to ${hex(m.from)} because it is unreachable [${pr}]`,
      );
      return undefined;
    case MessageType.MsgTransferLeader:
      transferLeader(r, m.from);
      return undefined;
  }
  return undefined;
}

function propose(r: Raft, m: Message): Error | undefined {
  if (m.entries.length === 0) throw new Error(`${hex(r.id)} stepped empty MsgProp`);
  // We may have removed ourselves; then we are no longer allowed to grow the log.
  if (!r.prs.progress.has(r.id)) return ErrProposalDropped;
  if (r.leadTransferee !== None) {
    r.logger.debug(
      `${hex(r.id)} [term ${r.term}] transfer leadership to ${
        hex(r.leadTransferee)
      } is in progress; dropping proposal`,
    );
    return ErrProposalDropped;
  }
  const ents = m.entries.map((e, i) => {
    if (e.type !== EntryType.ConfChange) return e;
    if (r.pendingConfIndex > r.raftLog.applied) {
      // Only one conf change may be in flight: the second becomes an empty normal entry.
      r.logger.info(
        `${
          hex(r.id)
        } propose conf change ignored since pending unapplied configuration [index ${r.pendingConfIndex}, applied ${r.raftLog.applied}]`,
      );
      return newEntry({ type: EntryType.Normal });
    }
    r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
    return e;
  });
  r.appendEntry(ents);
  bcastAppend(r);
  return undefined;
}

function transferLeader(r: Raft, transferee: bigint): void {
  const pr = r.prs.progress.get(transferee)!;
  if (pr.isLearner) {
    r.logger.debug(`${hex(r.id)} is learner. Ignored transferring leadership`);
    return;
  }
  if (r.leadTransferee !== None) {
    if (r.leadTransferee === transferee) {
      r.logger.info(
        `${hex(r.id)} [term ${r.term}] transfer leadership to ${
          hex(transferee)
        } is in progress, ignores request to same node ${hex(transferee)}`,
      );
      return;
    }
    r.logger.info(
      `${hex(r.id)} [term ${r.term}] abort previous transferring leadership to ${
        hex(r.leadTransferee)
      }`,
    );
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) {
    r.logger.debug(`${hex(r.id)} is already leader. Ignored transferring leadership to self`);
    return;
  }
  r.logger.info(
    `${hex(r.id)} [term ${r.term}] starts to transfer leadership to ${hex(transferee)}`,
  );
  // The transfer must finish within one election timeout, counted from now.
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) {
    sendTimeoutNow(r, transferee);
    r.logger.info(
      `${hex(r.id)} sends MsgTimeoutNow to ${hex(transferee)} immediately as ${
        hex(transferee)
      } already has up-to-date log`,
    );
  } else {
    sendAppend(r, transferee);
  }
}

export function stepCandidate(r: Raft, m: Message): Error | undefined {
  // Only responses to our own kind of campaign count.
  const myVoteRespType = r.state === StateType.PreCandidate
    ? MessageType.MsgPreVoteResp
    : MessageType.MsgVoteResp;
  switch (m.type) {
    case MessageType.MsgProp:
      r.logger.info(`${hex(r.id)} no leader at term ${r.term}; dropping proposal`);
      return ErrProposalDropped;
    case MessageType.MsgApp:
      r.becomeFollower(m.term, m.from); // always m.term === r.term
      handleAppendEntries(r, m);
      return undefined;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return undefined;
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return undefined;
    case myVoteRespType: {
      const { granted, rejected, result } = poll(r, m.from, m.type, !m.reject);
      r.logger.info(
        `${hex(r.id)} has received ${granted} ${
          msgName(m.type)
        } votes and ${rejected} vote rejections`,
      );
      if (result === VoteResult.Won) {
        if (r.state === StateType.PreCandidate) {
          campaign(r, CampaignType.Election);
        } else {
          r.becomeLeader();
          bcastAppend(r);
        }
      } else if (result === VoteResult.Lost) {
        // A rejected pre-vote carries the rejecter's term; step down at our own term.
        r.becomeFollower(r.term, None);
      }
      return undefined;
    }
    case MessageType.MsgTimeoutNow:
      r.logger.debug(
        `${hex(r.id)} [term ${r.term} state ${StateType[r.state]}] ignored MsgTimeoutNow from ${
          hex(m.from)
        }`,
      );
      return undefined;
  }
  return undefined;
}

export function stepFollower(r: Raft, m: Message): Error | undefined {
  switch (m.type) {
    case MessageType.MsgProp:
      if (r.lead === None) {
        r.logger.info(`${hex(r.id)} no leader at term ${r.term}; dropping proposal`);
        return ErrProposalDropped;
      }
      r.send({ ...m, to: r.lead });
      return undefined;
    case MessageType.MsgApp:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return undefined;
    case MessageType.MsgHeartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return undefined;
    case MessageType.MsgSnap:
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return undefined;
    case MessageType.MsgTransferLeader:
      if (r.lead === None) {
        r.logger.info(`${hex(r.id)} no leader at term ${r.term}; dropping leader transfer msg`);
        return undefined;
      }
      r.send({ ...m, to: r.lead, term: 0 });
      return undefined;
    case MessageType.MsgTimeoutNow:
      if (r.promotable()) {
        r.logger.info(
          `${hex(r.id)} [term ${r.term}] received MsgTimeoutNow from ${
            hex(m.from)
          } and starts an election to get leadership.`,
        );
        // Leader transfer skips pre-vote: the old leader asked for it.
        campaign(r, CampaignType.Transfer);
      } else {
        r.logger.info(
          `${hex(r.id)} received MsgTimeoutNow from ${hex(m.from)} but is not promotable`,
        );
      }
      return undefined;
    case MessageType.MsgReadIndex:
      if (r.lead === None) {
        r.logger.info(`${hex(r.id)} no leader at term ${r.term}; dropping index reading msg`);
        return undefined;
      }
      r.send({ ...m, to: r.lead });
      return undefined;
    case MessageType.MsgReadIndexResp:
      if (m.entries.length !== 1) {
        r.logger.warn(
          `${hex(r.id)} invalid format of MsgReadIndexResp from ${
            hex(m.from)
          }, entries count: ${m.entries.length}`,
        );
        return undefined;
      }
      r.readStates.push({ index: m.index, requestCtx: m.entries[0].data });
      return undefined;
  }
  return undefined;
}

export function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.raftLog.committed) {
    // Everything up to our commit index is settled: tell the leader where we are.
    r.send(newMessage({ to: m.from, type: MessageType.MsgAppResp, index: r.raftLog.committed }));
    return;
  }
  const lastNew = r.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send(newMessage({ to: m.from, type: MessageType.MsgAppResp, index: lastNew }));
    return;
  }
  r.logger.debug(
    `${hex(r.id)} [logterm: ${
      r.raftLog.zeroTermOnErrCompacted(m.index)
    }, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${
      hex(m.from)
    }`,
  );
  r.send(newMessage({
    to: m.from,
    type: MessageType.MsgAppResp,
    index: m.index,
    reject: true,
    rejectHint: r.raftLog.lastIndex(),
  }));
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit);
  r.send(newMessage({ to: m.from, type: MessageType.MsgHeartbeatResp, context: m.context }));
}

export function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot!;
  const { index, term } = s.metadata;
  if (restore(r, s)) {
    r.logger.info(
      `${
        hex(r.id)
      } [commit: ${r.raftLog.committed}] restored snapshot [index: ${index}, term: ${term}]`,
    );
    r.send(newMessage({ to: m.from, type: MessageType.MsgAppResp, index: r.raftLog.lastIndex() }));
  } else {
    r.logger.info(
      `${
        hex(r.id)
      } [commit: ${r.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`,
    );
    r.send(newMessage({ to: m.from, type: MessageType.MsgAppResp, index: r.raftLog.committed }));
  }
}
