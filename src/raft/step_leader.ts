// What a leader does with each message once Raft.step has checked its term: the local ones
// (beat, CheckQuorum, proposals, ReadIndex) and its followers' answers, one small handler per
// message type, as etcd's stepLeader cases are.

import {
  EntryType,
  ErrProposalDropped,
  type Message,
  MessageType,
  None,
  ProgressStateType,
} from "./types.ts";
import type { Raft } from "./raft.ts";
import type { Progress } from "./progress.ts";
import {
  bcastAppend,
  bcastHeartbeat,
  maybeSendAppend,
  sendAppend,
  sendTimeoutNow,
} from "./replication.ts";
import { leaderReadIndex, readIndexAck, releasePendingReadIndexMessages } from "./read_index.ts";
import { hex, newEntry } from "./util.ts";

export function stepLeader(r: Raft, m: Message): Error | undefined {
  // Messages that concern the leader itself, not one follower's progress.
  switch (m.type) {
    case MessageType.MsgBeat:
      bcastHeartbeat(r);
      return undefined;
    case MessageType.MsgCheckQuorum:
      checkQuorum(r);
      return undefined;
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
      if (m.reject) appendRejected(r, m, pr);
      else appendAccepted(r, m, pr);
      return undefined;
    case MessageType.MsgHeartbeatResp:
      heartbeatResponse(r, m, pr);
      return undefined;
    case MessageType.MsgSnapStatus:
      snapStatus(r, m, pr);
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

function checkQuorum(r: Raft): void {
  // The leader always counts itself active (it may have just removed itself).
  const self = r.prs.progress.get(r.id);
  if (self) self.recentActive = true;
  if (!r.prs.quorumActive()) {
    r.logger.warn(`${hex(r.id)} stepped down to follower since quorum is not active`);
    r.becomeFollower(r.term, None);
  }
  for (const [id, pr] of r.prs.progress) if (id !== r.id) pr.recentActive = false;
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

/** The follower's log does not match at m.index: probe backwards from its hint. */
function appendRejected(r: Raft, m: Message, pr: Progress): void {
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
}

/** The follower holds the log up to m.index: advance its progress, maybe the commit index. */
function appendAccepted(r: Raft, m: Message, pr: Progress): void {
  const oldPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === ProgressStateType.Probe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressStateType.Snapshot && pr.match >= pr.pendingSnapshot) {
    r.logger.debug(
      `${hex(r.id)} recovered from needing snapshot, resumed sending replication messages to ${
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
    r.logger.info(`${hex(r.id)} sent MsgTimeoutNow to ${hex(m.from)} after received MsgAppResp`);
    sendTimeoutNow(r, m.from);
  }
}

function heartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // A full window may be stuck on lost messages: free one slot per heartbeat round.
  if (pr.state === ProgressStateType.Replicate && pr.inflights.full()) {
    pr.inflights.freeFirstOne();
  }
  if (pr.match < r.raftLog.lastIndex()) sendAppend(r, m.from);
  if (m.context.length > 0) readIndexAck(r, m);
}

function snapStatus(r: Raft, m: Message, pr: Progress): void {
  if (pr.state !== ProgressStateType.Snapshot) return;
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
