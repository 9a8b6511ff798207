import assert from "node:assert/strict";
import { applyConfChange } from "../../src/raft/membership.ts";
import { type Raft } from "../../src/raft/raft.ts";
import {
  type ConfChange,
  ConfChangeType,
  EntryType,
  MessageType,
  None,
  StateType,
} from "../../src/raft/types.ts";
import { newEntry } from "../../src/raft/util.ts";
import { encodeConfChange } from "../../src/raft/codec.ts";
import {
  CaptureLogger,
  hup,
  ids,
  msg,
  Network,
  newStorage,
  newTestRaft,
  prop,
  readMessages,
} from "../helpers/raft.ts";

const cc = (type: ConfChangeType, nodeId: number): ConfChange => ({
  id: 0,
  type,
  nodeId: BigInt(nodeId),
  context: new Uint8Array(),
});

function propConf(id: number, c: ConfChange) {
  return msg({
    from: BigInt(id),
    to: BigInt(id),
    type: MessageType.MsgProp,
    entries: [newEntry({ type: EntryType.ConfChange, data: encodeConfChange(c) })],
  });
}

function leader(peers: number[], learners: number[] = [], logger?: CaptureLogger): Raft {
  const r = newTestRaft(1, 10, 1, newStorage(peers.map(BigInt), learners.map(BigInt)), { logger });
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  return r;
}

Deno.test("only one pending conf change: the second becomes an empty normal entry", () => {
  const r = leader([1]);
  r.raftLog.appliedTo(r.raftLog.committed);
  r.step(propConf(1, cc(ConfChangeType.AddNode, 2)));
  r.step(propConf(1, cc(ConfChangeType.AddNode, 3)));
  const ents = r.raftLog.allEntries();
  assert.deepEqual(ents.map((e) => e.type), [
    EntryType.Normal,
    EntryType.ConfChange,
    EntryType.Normal,
  ]);
  assert.equal(ents[2].data.length, 0);
  // Once the first is applied, a new one is accepted.
  r.raftLog.appliedTo(r.raftLog.committed);
  r.step(propConf(1, cc(ConfChangeType.AddNode, 3)));
  assert.equal(r.raftLog.allEntries().at(-1)!.type, EntryType.ConfChange);
});

Deno.test("a new leader blocks conf changes until its whole log is applied", () => {
  const r = leader([1]);
  assert.equal(r.pendingConfIndex, 0); // log was empty at election time
  const s = newStorage(ids(1));
  s.append([newEntry({ index: 1, term: 1 }), newEntry({ index: 2, term: 1 })]);
  s.setHardState({ term: 1, vote: 0n, commit: 2 });
  const r2 = newTestRaft(1, 10, 1, s);
  r2.becomeCandidate();
  r2.becomeLeader();
  assert.equal(r2.pendingConfIndex, 2);
});

Deno.test("add, redundant add, learner add, promotion, no demotion", () => {
  const log = new CaptureLogger();
  const r = leader([1], [], log);
  applyConfChange(r, cc(ConfChangeType.AddNode, 2));
  assert.deepEqual(r.prs.confState(), { voters: ids(1, 2), learners: [] });
  applyConfChange(r, cc(ConfChangeType.AddNode, 2));
  assert.deepEqual(r.prs.confState(), { voters: ids(1, 2), learners: [] });
  applyConfChange(r, cc(ConfChangeType.AddLearnerNode, 3));
  assert.deepEqual(r.prs.confState(), { voters: ids(1, 2), learners: ids(3) });
  assert.ok(log.lines.includes("1 switched to configuration voters=(1 2) learners=(3)"));
  applyConfChange(r, cc(ConfChangeType.AddLearnerNode, 2)); // voter -> learner refused
  assert.deepEqual(r.prs.confState().voters, ids(1, 2));
  applyConfChange(r, cc(ConfChangeType.AddNode, 3));
  assert.deepEqual(r.prs.confState(), { voters: ids(1, 2, 3), learners: [] });
  applyConfChange(r, cc(ConfChangeType.UpdateNode, 3));
  assert.deepEqual(r.prs.confState().voters, ids(1, 2, 3));
});

Deno.test("removing a node shrinks the quorum and commits what was pending", () => {
  const r = leader([1, 2]);
  r.step(prop(1));
  assert.equal(r.raftLog.committed, 0);
  applyConfChange(r, cc(ConfChangeType.RemoveNode, 2));
  assert.equal(r.raftLog.committed, 2);
});

Deno.test("removing the transfer target aborts the transfer", () => {
  const r = leader([1, 2, 3]);
  r.step(msg({ from: 3n, to: 1n, type: MessageType.MsgTransferLeader }));
  assert.equal(r.leadTransferee, 3n);
  applyConfChange(r, cc(ConfChangeType.RemoveNode, 3));
  assert.equal(r.leadTransferee, None);
});

Deno.test("learners replicate but do not count for commit; promoted learners campaign", () => {
  const s1 = newStorage(ids(1), ids(2));
  const s2 = newStorage(ids(1), ids(2));
  const n = new Network([newTestRaft(1, 10, 1, s1), newTestRaft(2, 10, 1, s2)]);
  n.send(hup(1));
  n.send(prop(1));
  assert.equal(n.raft(1).raftLog.committed, 2);
  assert.equal(n.raft(2).raftLog.committed, 2);
  const learner = n.raft(2);
  assert.equal(learner.isLearner, true);
  for (let i = 0; i < 30; i++) learner.tick();
  assert.equal(learner.state, StateType.Follower);
  readMessages(learner);
  // Promote on both sides, then the former learner can win an election.
  applyConfChange(n.raft(1), cc(ConfChangeType.AddNode, 2));
  applyConfChange(learner, cc(ConfChangeType.AddNode, 2));
  assert.equal(learner.isLearner, false);
  n.send(hup(2));
  assert.equal(learner.state, StateType.Leader);
});

Deno.test("leader transfer to a learner is ignored", () => {
  const r = leader([1], [2]);
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgTransferLeader }));
  assert.equal(r.leadTransferee, None);
});

Deno.test("a removed leader drops proposals", () => {
  const r = leader([1, 2]);
  applyConfChange(r, cc(ConfChangeType.RemoveNode, 1));
  assert.ok(r.step(prop(1)));
});
