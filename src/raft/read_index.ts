// ReadIndex on the leader (etcd's ReadOnlySafe): a read is answered with the commit index
// once a quorum has acknowledged a heartbeat sent after the request arrived.

import { type Message, MessageType, None } from "./types.ts";
import type { Raft } from "./raft.ts";
import { bcastHeartbeatWithCtx } from "./replication.ts";
import { VoteResult } from "./tracker.ts";
import { newMessage } from "./util.ts";

export function leaderReadIndex(r: Raft, m: Message): void {
  if (r.prs.isSingleton()) {
    respondToReadIndex(r, m, r.raftLog.committed);
  } else if (!committedEntryInCurrentTerm(r)) {
    // Our commit index is not known to be current until an entry of our term commits.
    r.pendingReadIndexMessages.push(m);
  } else {
    startReadIndex(r, m);
  }
}

/** A heartbeat response echoing a read's context: answer the reads a quorum confirmed. */
export function readIndexAck(r: Raft, m: Message): void {
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (!acks || r.prs.voteResult((id) => acks.has(id) || undefined) !== VoteResult.Won) return;
  for (const rs of r.readOnly.advance(m.context)) respondToReadIndex(r, rs.req, rs.index);
}

function committedEntryInCurrentTerm(r: Raft): boolean {
  return r.raftLog.zeroTermOnErrCompacted(r.raftLog.committed) === r.term;
}

export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !committedEntryInCurrentTerm(r)) return;
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) startReadIndex(r, m);
}

/** Records the commit index for the request and confirms leadership with a heartbeat round. */
function startReadIndex(r: Raft, m: Message): void {
  const ctx = m.entries[0].data;
  r.readOnly.addRequest(r.raftLog.committed, m);
  r.readOnly.recvAck(r.id, ctx);
  bcastHeartbeatWithCtx(r, ctx);
}

function respondToReadIndex(r: Raft, req: Message, index: number): void {
  if (req.from === None || req.from === r.id) {
    r.readStates.push({ index, requestCtx: req.entries[0].data });
  } else {
    r.send(newMessage({
      to: req.from,
      type: MessageType.MsgReadIndexResp,
      index,
      entries: req.entries,
    }));
  }
}
