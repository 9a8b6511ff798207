// Leader-side replication: MsgApp/MsgSnap to each follower according to its Progress, and
// heartbeats.

import {
  type Entry,
  ErrCompacted,
  ErrSnapshotTemporarilyUnavailable,
  ErrUnavailable,
  MessageType,
  ProgressStateType,
} from "./types.ts";
import type { Raft } from "./raft.ts";
import { hex, isEmptySnap, newMessage } from "./util.ts";

function readForAppend(r: Raft, next: number): { term: number; ents: Entry[] } | undefined {
  try {
    const term = r.raftLog.term(next - 1);
    const ents = r.raftLog.entries(next, r.maxMsgSize);
    return { term, ents };
  } catch (err) {
    if (err === ErrCompacted || err === ErrUnavailable) return undefined;
    throw err;
  }
}

/**
 * Sends `to` what it lacks: entries from its next index, or a snapshot when those were
 * compacted away. With sendIfEmpty false, nothing is sent if there are no entries. Returns
 * whether a message was sent.
 */
export function maybeSendAppend(r: Raft, to: bigint, sendIfEmpty: boolean): boolean {
  const pr = r.prs.progress.get(to);
  if (!pr || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const read = readForAppend(r, pr.next);
  if (read && read.ents.length === 0 && !sendIfEmpty) return false;
  if (!read) {
    if (!pr.recentActive) {
      r.logger.debug(`ignore sending snapshot to ${hex(to)} since it is not recently active`);
      return false;
    }
    let snapshot;
    try {
      snapshot = r.raftLog.snapshot();
    } catch (err) {
      if (err === ErrSnapshotTemporarilyUnavailable) {
        r.logger.debug(
          `${hex(r.id)} failed to send snapshot to ${
            hex(to)
          } because snapshot is temporarily unavailable`,
        );
        return false;
      }
      throw err;
    }
    if (isEmptySnap(snapshot)) throw new Error("need non-empty snapshot");
    const { index, term } = snapshot.metadata;
    r.logger.debug(
      `${
        hex(r.id)
      } [firstindex: ${r.raftLog.firstIndex()}, commit: ${r.raftLog.committed}] sent snapshot[index: ${index}, term: ${term}] to ${
        hex(to)
      } [${pr}]`,
    );
    pr.becomeSnapshot(index);
    r.logger.debug(`${hex(r.id)} paused sending replication messages to ${hex(to)} [${pr}]`);
    r.send(newMessage({ to, type: MessageType.MsgSnap, snapshot }));
    return true;
  }
  const { term, ents } = read;
  if (ents.length > 0) {
    switch (pr.state) {
      case ProgressStateType.Replicate: {
        // Pipeline: assume delivery and keep sending until the in-flight window is full.
        const last = ents[ents.length - 1].index;
        pr.optimisticUpdate(last);
        pr.inflights.add(last);
        break;
      }
      case ProgressStateType.Probe:
        // One probe at a time until the follower answers.
        pr.probeSent = true;
        break;
      default:
        throw new Error(
          `${hex(r.id)} is sending append in unhandled state ${ProgressStateType[pr.state]}`,
        );
    }
  }
  r.send(newMessage({
    to,
    type: MessageType.MsgApp,
    index: prevIndex,
    logTerm: term,
    entries: ents,
    commit: r.raftLog.committed,
  }));
  return true;
}

export function sendAppend(r: Raft, to: bigint): void {
  maybeSendAppend(r, to, true);
}

/** Sends appends to every member but ourselves (learners included). */
export function bcastAppend(r: Raft): void {
  for (const id of r.prs.ids()) if (id !== r.id) sendAppend(r, id);
}

export function sendHeartbeat(r: Raft, to: bigint, ctx: Uint8Array | undefined): void {
  // A follower may not have all our committed entries yet: never advertise beyond its match,
  // or it would commit an index it does not hold.
  const pr = r.prs.progress.get(to);
  const commit = Math.min(pr?.match ?? 0, r.raftLog.committed);
  r.send(newMessage({ to, type: MessageType.MsgHeartbeat, commit, context: ctx }));
}

/** Heartbeats carry the newest pending ReadIndex context so one round confirms them all. */
export function bcastHeartbeat(r: Raft): void {
  const ctx = r.readOnly.lastPendingRequestCtx();
  bcastHeartbeatWithCtx(r, ctx);
}

export function bcastHeartbeatWithCtx(r: Raft, ctx: Uint8Array | undefined): void {
  for (const id of r.prs.ids()) if (id !== r.id) sendHeartbeat(r, id, ctx);
}

export function sendTimeoutNow(r: Raft, to: bigint): void {
  r.send(newMessage({ to, type: MessageType.MsgTimeoutNow }));
}
