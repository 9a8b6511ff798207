// Membership: single-step configuration changes and installing a snapshot's configuration.

import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  None,
  type Snapshot,
  StateType,
} from "./types.ts";
import type { Raft } from "./raft.ts";
import { ProgressTracker } from "./tracker.ts";
import { bcastAppend } from "./replication.ts";
import { hex } from "./util.ts";

export function restoreConfState(r: Raft, cs: ConfState): void {
  const next = r.raftLog.lastIndex() + 1;
  for (const id of cs.voters) r.prs.addNode(id, false, next);
  for (const id of cs.learners) r.prs.addNode(id, true, next);
  r.isLearner = r.prs.learners.has(r.id);
  if (cs.voters.length + cs.learners.length > 0) {
    r.logger.info(`${hex(r.id)} switched to configuration ${r.prs.configString()}`);
  }
}

/** Applies a committed single-step conf change to the tracked configuration. */
export function applyConfChange(r: Raft, cc: ConfChange): ConfState {
  const next = r.raftLog.lastIndex() + 1;
  const pr = r.prs.progress.get(cc.nodeId);
  switch (cc.type) {
    case ConfChangeType.AddNode:
    case ConfChangeType.AddLearnerNode: {
      const learner = cc.type === ConfChangeType.AddLearnerNode;
      if (pr && learner && !pr.isLearner) {
        r.logger.info(
          `${hex(r.id)} ignored addLearner: do not support changing ${
            hex(cc.nodeId)
          } from raft peer to learner.`,
        );
        return r.prs.confState();
      }
      // Redundant adds happen: bootstrap entries are applied twice.
      if (pr && learner === pr.isLearner) return r.prs.confState();
      r.prs.addNode(cc.nodeId, learner, next);
      break;
    }
    case ConfChangeType.RemoveNode:
      r.prs.removeNode(cc.nodeId);
      break;
    case ConfChangeType.UpdateNode:
      return r.prs.confState();
  }
  r.isLearner = r.prs.learners.has(r.id);
  r.logger.info(`${hex(r.id)} switched to configuration ${r.prs.configString()}`);
  if (r.state === StateType.Leader && r.prs.voters.size > 0) {
    // A smaller quorum may commit what was pending.
    if (r.maybeCommit()) bcastAppend(r);
    if (cc.type === ConfChangeType.RemoveNode && r.leadTransferee === cc.nodeId) {
      r.abortLeaderTransfer();
    }
  }
  return r.prs.confState();
}

/** Replaces log and configuration with a snapshot from the leader; false if not useful. */
export function restore(r: Raft, s: Snapshot): boolean {
  const { index, term } = s.metadata;
  if (index <= r.raftLog.committed) return false;
  if (r.state !== StateType.Follower) {
    // Only a leader of our term sends snapshots, and its message made us a follower.
    r.logger.warn(`${hex(r.id)} attempted to restore snapshot as leader; should never happen`);
    r.becomeFollower(r.term + 1, None);
    return false;
  }
  if (r.raftLog.matchTerm(index, term)) {
    r.logger.info(
      `${
        hex(r.id)
      } [commit: ${r.raftLog.committed}, lastindex: ${r.raftLog.lastIndex()}, lastterm: ${r.raftLog.lastTerm()}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`,
    );
    r.raftLog.commitTo(index);
    return false;
  }
  // Defense in depth: a snapshot whose configuration lacks us is not ours to install.
  const cs = s.metadata.confState;
  if (!cs.voters.includes(r.id) && !cs.learners.includes(r.id)) {
    r.logger.warn(
      `${hex(r.id)} attempted to restore snapshot but it is not in the ConfState ${
        JSON.stringify({ voters: cs.voters.map(String), learners: cs.learners.map(String) })
      }; should never happen`,
    );
    return false;
  }
  r.logger.info(
    `${
      hex(r.id)
    } [commit: ${r.raftLog.committed}, lastindex: ${r.raftLog.lastIndex()}, lastterm: ${r.raftLog.lastTerm()}] starts to restore snapshot [index: ${index}, term: ${term}]`,
  );
  r.raftLog.restore(s);
  r.prs = new ProgressTracker(r.prs.maxInflight);
  restoreConfState(r, s.metadata.confState);
  const pr = r.prs.progress.get(r.id);
  if (pr) pr.maybeUpdate(pr.next - 1);
  r.logger.info(
    `${
      hex(r.id)
    } [commit: ${r.raftLog.committed}, lastindex: ${r.raftLog.lastIndex()}, lastterm: ${r.raftLog.lastTerm()}] restored snapshot [index: ${index}, term: ${term}]`,
  );
  return true;
}
