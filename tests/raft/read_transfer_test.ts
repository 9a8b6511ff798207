import assert from "node:assert/strict";
import { MessageType, None, type ReadState, StateType } from "../../src/raft/types.ts";
import { newEntry } from "../../src/raft/util.ts";
import { hup, msg, Network, prop, readMessages } from "../helpers/raft.ts";

const enc = new TextEncoder();

function readIndex(to: number, ctx: string) {
  return msg({
    from: BigInt(to),
    to: BigInt(to),
    type: MessageType.MsgReadIndex,
    entries: [newEntry({ data: enc.encode(ctx) })],
  });
}

function takeReadStates(n: Network, id: number): ReadState[] {
  const r = n.raft(id);
  const rs = r.readStates;
  r.readStates = [];
  return rs;
}

Deno.test("read index on the leader and via followers after a heartbeat round", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.send(hup(1));
  n.send(prop(1));
  for (const [id, ctx] of [[1, "ctx1"], [2, "ctx2"], [3, "ctx3"], [1, "ctx4"]] as const) {
    n.send(readIndex(id, ctx));
    const rs = takeReadStates(n, id);
    assert.equal(rs.length, 1, `${ctx}`);
    assert.equal(rs[0].index, n.raft(1).raftLog.committed);
    assert.deepEqual(rs[0].requestCtx, enc.encode(ctx));
  }
});

Deno.test("read index waits for a quorum of heartbeat acks", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.send(hup(1));
  n.isolate(1);
  n.send(readIndex(1, "x"));
  assert.equal(takeReadStates(n, 1).length, 0);
  n.recover();
  n.send(msg({ from: 1n, to: 1n, type: MessageType.MsgBeat }));
  assert.equal(takeReadStates(n, 1).length, 1);
});

Deno.test("read index waits for the first commit of the leader's term", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.ignore(MessageType.MsgApp);
  n.send(hup(1));
  const r = n.raft(1);
  assert.equal(r.state, StateType.Leader);
  n.send(readIndex(1, "early"));
  assert.equal(takeReadStates(n, 1).length, 0);
  assert.equal(r.pendingReadIndexMessages.length, 1);
  n.recover();
  n.send(msg({ from: 1n, to: 1n, type: MessageType.MsgBeat })); // heartbeat -> catch-up
  assert.equal(r.raftLog.committed, 1);
  const rs = takeReadStates(n, 1);
  assert.equal(rs.length, 1);
  assert.equal(rs[0].index, 1);
});

Deno.test("read index on a single voter is immediate; without a leader it is dropped", () => {
  const n = new Network([undefined]);
  n.send(hup(1));
  n.send(readIndex(1, "solo"));
  assert.deepEqual(takeReadStates(n, 1).map((s) => s.index), [1]);
  const m = new Network([undefined, undefined]);
  m.send(readIndex(2, "nobody"));
  assert.equal(takeReadStates(m, 2).length, 0);
});

function transfer(n: Network, leader: number, to: number) {
  n.send(msg({ from: BigInt(to), to: BigInt(leader), type: MessageType.MsgTransferLeader }));
}

Deno.test("leader transfer to an up-to-date follower", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.send(hup(1));
  transfer(n, 1, 2);
  assert.equal(n.raft(1).state, StateType.Follower);
  assert.equal(n.raft(2).state, StateType.Leader);
  assert.equal(n.raft(1).lead, 2n);
  assert.equal(n.raft(2).term, 2);
});

Deno.test("leader transfer to a lagging follower waits for it to catch up", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.send(hup(1));
  n.isolate(3);
  n.send(prop(1));
  n.recover();
  n.ignore(MessageType.MsgAppResp);
  transfer(n, 1, 3);
  assert.equal(n.raft(1).leadTransferee, 3n);
  // Proposals are refused while a transfer is in progress.
  assert.ok(n.raft(1).step(prop(1)));
  n.recover();
  n.send(msg({ from: 1n, to: 1n, type: MessageType.MsgBeat }));
  assert.equal(n.raft(3).state, StateType.Leader);
});

Deno.test("leader transfer aborts after an election timeout, to self is ignored", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.send(hup(1));
  n.isolate(3);
  transfer(n, 1, 3);
  const r = n.raft(1);
  assert.equal(r.leadTransferee, 3n);
  for (let i = 0; i < r.electionTimeout; i++) r.tick();
  assert.equal(r.leadTransferee, None);
  assert.equal(r.state, StateType.Leader);
  transfer(n, 1, 1);
  assert.equal(r.leadTransferee, None);
  readMessages(r);
});

Deno.test("a follower forwards MsgTransferLeader to the leader", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.send(hup(1));
  n.send(msg({ from: 3n, to: 2n, type: MessageType.MsgTransferLeader }));
  assert.equal(n.raft(3).state, StateType.Leader);
});

Deno.test("MsgTimeoutNow campaigns past the leader lease even with pre-vote and check quorum", () => {
  const n = new Network([undefined, undefined, undefined], (c) => {
    c.preVote = true;
    c.checkQuorum = true;
  });
  n.send(hup(1));
  transfer(n, 1, 2);
  assert.equal(n.raft(2).state, StateType.Leader);
  assert.equal(n.raft(2).term, 2);
});
