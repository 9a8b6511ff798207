// Elections: starting a campaign, counting votes, and deciding whether to grant a vote.

import { EntryType, type Message, MessageType, None, StateType } from "./types.ts";
import { campaignTransferCtx, CampaignType, type Raft } from "./raft.ts";
import { type ProgressTracker, VoteResult } from "./tracker.ts";
import { hex, msgName, newMessage, noLimit, voteRespMsgType } from "./util.ts";

export function voteDesc(r: Raft): string {
  return `${hex(r.id)} [logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}, vote: ${
    hex(r.vote)
  }]`;
}

export function handleVote(r: Raft, m: Message): void {
  // We can vote if this repeats a vote we cast, or we have not voted and know no leader in
  // this term, or it is a pre-vote for a future term; and only for an up-to-date log.
  // Learners answer too: only a candidate that counts them as voters counts their vote.
  const canVote = r.vote === m.from || (r.vote === None && r.lead === None) ||
    (m.type === MessageType.MsgPreVote && m.term > r.term);
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    r.logger.info(
      `${voteDesc(r)} cast ${msgName(m.type)} for ${
        hex(m.from)
      } [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`,
    );
    // The response carries the candidate's term: a pre-vote's term is one we have not reached.
    r.send(newMessage({ to: m.from, term: m.term, type: voteRespMsgType(m.type) }));
    if (m.type === MessageType.MsgVote) {
      // Granting a vote resets the election timer, as hearing from a leader would.
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    rejectVote(r, m);
  }
}

/** Refuses a (pre-)vote; the answer carries our term, so a candidate behind us learns it. */
export function rejectVote(r: Raft, m: Message): void {
  r.logger.info(
    `${voteDesc(r)} rejected ${msgName(m.type)} from ${
      hex(m.from)
    } [logterm: ${m.logTerm}, index: ${m.index}] at term ${r.term}`,
  );
  r.send(newMessage({
    to: m.from,
    term: r.term,
    type: voteRespMsgType(m.type),
    reject: true,
  }));
}

export function hup(r: Raft, t: CampaignType): void {
  if (r.state === StateType.Leader) {
    r.logger.debug(`${hex(r.id)} ignoring MsgHup because already leader`);
    return;
  }
  if (!r.promotable()) {
    r.logger.warn(`${hex(r.id)} is unpromotable and can not campaign`);
    return;
  }
  // A conf change between applied and committed could make us a non-member: wait for it.
  const ents = r.raftLog.slice(r.raftLog.applied + 1, r.raftLog.committed + 1, noLimit);
  const n = ents.filter((e) => e.type === EntryType.ConfChange).length;
  if (n !== 0 && r.raftLog.committed > r.raftLog.applied) {
    r.logger.warn(
      `${
        hex(r.id)
      } cannot campaign at term ${r.term} since there are still ${n} pending configuration changes to apply`,
    );
    return;
  }
  r.logger.info(`${hex(r.id)} is starting a new election at term ${r.term}`);
  campaign(r, t);
}

export function campaign(r: Raft, t: CampaignType): void {
  let term: number;
  let voteMsg: MessageType;
  if (t === CampaignType.PreElection) {
    r.becomePreCandidate();
    voteMsg = MessageType.MsgPreVote;
    // Pre-vote asks for the term we would campaign in, without moving to it yet.
    term = r.term + 1;
  } else {
    r.becomeCandidate();
    voteMsg = MessageType.MsgVote;
    term = r.term;
  }
  if (poll(r, r.id, voteRespMsgType(voteMsg), true).result === VoteResult.Won) {
    // Single voter: we won right away.
    if (t === CampaignType.PreElection) campaign(r, CampaignType.Election);
    else r.becomeLeader();
    return;
  }
  for (const id of [...r.prs.voters].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (id === r.id) continue;
    r.logger.info(
      `${hex(r.id)} [logterm: ${r.raftLog.lastTerm()}, index: ${r.raftLog.lastIndex()}] sent ${
        msgName(voteMsg)
      } request to ${hex(id)} at term ${r.term}`,
    );
    r.send(newMessage({
      term,
      to: id,
      type: voteMsg,
      index: r.raftLog.lastIndex(),
      logTerm: r.raftLog.lastTerm(),
      context: t === CampaignType.Transfer ? campaignTransferCtx : undefined,
    }));
  }
}

export function poll(
  r: Raft,
  id: bigint,
  t: MessageType,
  v: boolean,
): ReturnType<ProgressTracker["tallyVotes"]> {
  if (v) {
    r.logger.info(`${hex(r.id)} received ${msgName(t)} from ${hex(id)} at term ${r.term}`);
  } else {
    r.logger.info(
      `${hex(r.id)} received ${msgName(t)} rejection from ${hex(id)} at term ${r.term}`,
    );
  }
  r.prs.recordVote(id, v);
  return r.prs.tallyVotes();
}
