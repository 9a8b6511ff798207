// Role-specific message handling for the roles that follow: what a (pre-)candidate and a
// follower do with each message once its term has been checked by Raft.step, and how they
// take in the leader's appends, heartbeats and snapshots. The leader's side is step_leader.ts.

import { ErrProposalDropped, type Message, MessageType, None, StateType } from "./types.ts";
import { CampaignType, type Raft } from "./raft.ts";
import { campaign, poll } from "./election.ts";
import { restore } from "./membership.ts";
import { bcastAppend } from "./replication.ts";
import { VoteResult } from "./tracker.ts";
import { hex, msgName, newMessage } from "./util.ts";

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
