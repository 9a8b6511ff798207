import assert from "node:assert/strict";
import { Raft } from "../../src/raft/raft.ts";
import { MessageType, None, type RaftConfig, StateType } from "../../src/raft/types.ts";
import { newEntry } from "../../src/raft/util.ts";
import {
  CaptureLogger,
  hup,
  ids,
  msg,
  Network,
  newStorage,
  newTestRaft,
  prop,
  raftWithLog,
  readMessages,
} from "../helpers/raft.ts";

const preVote = (c: Partial<RaftConfig>) => {
  c.preVote = true;
};
const checkQuorum = (c: Partial<RaftConfig>) => {
  c.checkQuorum = true;
};

for (const pv of [false, true]) {
  Deno.test(`leader election (preVote=${pv})`, () => {
    const all5 = ids(1, 2, 3, 4, 5);
    const candState = pv ? StateType.PreCandidate : StateType.Candidate;
    const candTerm = pv ? 0 : 1;
    const withCfg = (r: Raft) => {
      if (pv) (r as { preVote: boolean }).preVote = true;
      return r;
    };
    const cases: [(Raft | undefined | "hole")[], StateType, number][] = [
      [[undefined, undefined, undefined], StateType.Leader, 1],
      [[undefined, undefined, "hole"], StateType.Leader, 1],
      [[undefined, "hole", "hole"], candState, candTerm],
      [[undefined, "hole", "hole", undefined], candState, candTerm],
      [[undefined, "hole", "hole", undefined, undefined], StateType.Leader, 1],
      // Three logs are further along in the same term: they reject, and 1 learns term 1.
      [
        [
          undefined,
          withCfg(raftWithLog(2, [1], all5, 1)),
          withCfg(raftWithLog(3, [1], all5, 1)),
          withCfg(raftWithLog(4, [1, 1], all5, 1)),
          undefined,
        ],
        StateType.Follower,
        1,
      ],
    ];
    for (const [i, [peers, state, term]] of cases.entries()) {
      const n = new Network(peers, pv ? preVote : undefined);
      n.send(hup(1));
      assert.equal(n.raft(1).state, state, `#${i} state`);
      assert.equal(n.raft(1).term, term, `#${i} term`);
    }
  });
}

Deno.test("learners never campaign", () => {
  const s = newStorage(ids(1), ids(2));
  const r = newTestRaft(2, 10, 1, s);
  assert.equal(r.isLearner, true);
  for (let i = 0; i < 40; i++) r.tick();
  assert.equal(r.state, StateType.Follower);
  assert.equal(readMessages(r).length, 0);
});

Deno.test("recv MsgVote: voting rules", () => {
  type Case = [StateType, number, number, bigint, boolean];
  const F = StateType.Follower;
  const cases: Case[] = [
    [F, 0, 0, None, true],
    [F, 0, 1, None, true],
    [F, 0, 2, None, true],
    [F, 0, 3, None, false],
    [F, 1, 0, None, true],
    [F, 1, 1, None, true],
    [F, 1, 2, None, true],
    [F, 1, 3, None, false],
    [F, 2, 0, None, true],
    [F, 2, 1, None, true],
    [F, 2, 2, None, false],
    [F, 2, 3, None, false],
    [F, 3, 0, None, true],
    [F, 3, 1, None, true],
    [F, 3, 2, None, false],
    [F, 3, 3, None, false],
    [F, 3, 2, 2n, false], // repeated vote for the same candidate
    [F, 3, 2, 1n, true], // already voted for someone else
    [StateType.Leader, 3, 3, 1n, true],
    [StateType.PreCandidate, 3, 3, 1n, true],
    [StateType.Candidate, 3, 3, 1n, true],
  ];
  for (const type of [MessageType.MsgVote, MessageType.MsgPreVote]) {
    for (const [i, [state, index, logTerm, voteFor, wreject]] of cases.entries()) {
      const r = raftWithLog(1, [2, 2], ids(1, 2));
      r.state = state;
      r.vote = voteFor;
      r.term = Math.max(r.raftLog.lastTerm(), logTerm);
      r.step(msg({ type, from: 2n, index, logTerm, term: r.term }));
      const msgs = readMessages(r);
      assert.equal(msgs.length, 1, `#${i}`);
      assert.equal(
        msgs[0].type,
        type === MessageType.MsgVote ? MessageType.MsgVoteResp : MessageType.MsgPreVoteResp,
      );
      assert.equal(msgs[0].reject, wreject, `${MessageType[type]} #${i}`);
    }
  }
});

Deno.test("a vote is granted from any state at a higher term", () => {
  for (const vt of [MessageType.MsgVote, MessageType.MsgPreVote]) {
    for (
      const st of [
        StateType.Follower,
        StateType.Candidate,
        StateType.PreCandidate,
        StateType.Leader,
      ]
    ) {
      const r = newTestRaft(1, 10, 1, newStorage(ids(1, 2, 3)));
      r.term = 1;
      if (st === StateType.Follower) r.becomeFollower(r.term, 3n);
      if (st === StateType.PreCandidate) r.becomePreCandidate();
      if (st === StateType.Candidate) r.becomeCandidate();
      if (st === StateType.Leader) {
        r.becomeCandidate();
        r.becomeLeader();
      }
      const origTerm = r.term;
      const newTerm = r.term + 1;
      r.step(msg({ type: vt, from: 2n, to: 1n, term: newTerm, logTerm: newTerm, index: 42 }));
      const msgs = readMessages(r);
      assert.equal(msgs.length, 1);
      assert.equal(msgs[0].reject, false, `${MessageType[vt]} from ${StateType[st]}`);
      assert.equal(msgs[0].term, newTerm);
      if (vt === MessageType.MsgVote) {
        assert.equal(r.state, StateType.Follower);
        assert.equal(r.term, newTerm);
        assert.equal(r.vote, 2n);
      } else {
        // A pre-vote changes nothing on the voter.
        assert.equal(r.state, st);
        assert.equal(r.term, origTerm);
      }
    }
  }
});

Deno.test("candidate concedes to the elected leader and catches up", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.isolate(1);
  n.send(hup(1));
  n.send(hup(3));
  n.recover();
  n.send(msg({ from: 3n, to: 3n, type: MessageType.MsgBeat }));
  n.send(prop(3, "force follower"));
  n.send(msg({ from: 3n, to: 3n, type: MessageType.MsgBeat }));
  assert.equal(n.raft(1).state, StateType.Follower);
  assert.equal(n.raft(1).term, 1);
  const want = n.raft(3).raftLog.allEntries();
  for (const id of [1, 2]) assert.deepEqual(n.raft(id).raftLog.allEntries(), want);
});

Deno.test("single node campaign wins at once, with and without pre-vote", () => {
  for (const cfg of [undefined, preVote]) {
    const n = new Network([undefined], cfg);
    n.send(hup(1));
    assert.equal(n.raft(1).state, StateType.Leader);
    assert.equal(n.raft(1).term, 1);
  }
});

Deno.test("dueling candidates: the one with the shorter log loses", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.cut(1, 3);
  n.send(hup(1));
  n.send(hup(3));
  assert.equal(n.raft(1).state, StateType.Leader);
  assert.equal(n.raft(3).state, StateType.Candidate);
  n.recover();
  // 3 campaigns again at term 2; 1 and 2 reject it (their log is longer), 1 steps down.
  n.send(hup(3));
  assert.equal(n.raft(1).state, StateType.Follower);
  assert.equal(n.raft(2).state, StateType.Follower);
  assert.equal(n.raft(3).state, StateType.Follower);
  assert.equal(n.raft(3).term, 2);
  assert.equal(n.raft(1).raftLog.lastIndex(), 1);
  assert.equal(n.raft(3).raftLog.lastIndex(), 0);
});

Deno.test("messages from an older term are ignored", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.send(hup(1));
  n.send(hup(2));
  n.send(hup(1)); // 1 leads at term 3
  n.send(msg({
    type: MessageType.MsgApp,
    from: 2n,
    to: 1n,
    term: 2,
    entries: [newEntry({ index: 3, term: 2 })],
  }));
  n.send(prop(1));
  const l = n.raft(1).raftLog.allEntries().map((e) => e.term);
  assert.deepEqual(l, [1, 2, 3, 3]);
  assert.equal(n.raft(1).raftLog.committed, 4);
});

Deno.test("randomized election timeout is in [electionTick, 2*electionTick)", () => {
  const r = newTestRaft(1, 10, 1, newStorage(ids(1)), { random: Math.random });
  const seen = new Set<number>();
  for (let i = 0; i < 500; i++) {
    r.resetRandomizedElectionTimeout();
    assert.ok(r.randomizedElectionTimeout >= 10 && r.randomizedElectionTimeout < 20);
    seen.add(r.randomizedElectionTimeout);
  }
  assert.equal(seen.size, 10);
  const edge = newTestRaft(1, 10, 1, newStorage(ids(1)), { random: () => 0.9999999999 });
  assert.equal(edge.randomizedElectionTimeout, 19);
});

Deno.test("a follower campaigns after its randomized timeout, not before", () => {
  const r = newTestRaft(1, 10, 1, newStorage(ids(1, 2, 3)));
  const timeout = r.randomizedElectionTimeout;
  for (let i = 0; i < timeout - 1; i++) r.tick();
  assert.equal(r.state, StateType.Follower);
  r.tick();
  assert.equal(r.state, StateType.Candidate);
  const votes = readMessages(r).filter((m) => m.type === MessageType.MsgVote);
  assert.deepEqual(votes.map((m) => m.to), [2n, 3n]);
});

Deno.test("no campaign while committed conf changes are unapplied", () => {
  const s = newStorage(ids(1, 2));
  s.append([newEntry({ index: 1, term: 1, type: 1 })]);
  s.setHardState({ term: 1, vote: 0n, commit: 1 });
  const r = newTestRaft(1, 10, 1, s);
  r.step(hup(1));
  assert.equal(r.state, StateType.Follower);
});

Deno.test("pre-vote: an isolated node does not inflate its term or disrupt the leader", () => {
  const n = new Network([undefined, undefined, undefined], preVote);
  n.send(hup(1));
  n.isolate(3);
  n.send(prop(1));
  for (let i = 0; i < 5; i++) n.send(hup(3));
  assert.equal(n.raft(3).state, StateType.PreCandidate);
  assert.equal(n.raft(3).term, 1);
  n.recover();
  n.send(hup(3)); // 3's log is behind: its pre-vote fails and nobody changes term
  assert.equal(n.raft(1).state, StateType.Leader);
  assert.equal(n.raft(1).term, 1);
  assert.equal(n.raft(3).state, StateType.Follower);
});

Deno.test("pre-vote: a pre-candidate with a quorum proceeds to a real election", () => {
  const n = new Network([undefined, undefined, undefined], preVote);
  n.send(hup(1));
  n.send(hup(2)); // 2's log is as long as everyone's; 1 still leads but votes are not leased
  assert.equal(n.raft(2).state, StateType.Leader);
  assert.equal(n.raft(2).term, 2);
});

Deno.test("check quorum: the leader steps down without quorum activity", () => {
  const n = new Network([undefined, undefined, undefined], checkQuorum);
  n.send(hup(1));
  n.isolate(1);
  const r = n.raft(1);
  // The first round still sees the followers' earlier answers; the second finds none.
  for (let i = 0; i < r.electionTimeout; i++) r.tick();
  assert.equal(r.state, StateType.Leader);
  for (let i = 0; i < r.electionTimeout; i++) r.tick();
  assert.equal(r.state, StateType.Follower);
});

Deno.test("check quorum: followers within their lease ignore votes; expired lease allows", () => {
  const n = new Network([undefined, undefined, undefined], checkQuorum);
  const [a, b, c] = [n.raft(1), n.raft(2), n.raft(3)];
  b.randomizedElectionTimeout = b.electionTimeout + 1;
  for (let i = 0; i < b.electionTimeout; i++) b.tick();
  n.send(hup(1));
  assert.equal(a.state, StateType.Leader);
  assert.equal(c.state, StateType.Follower);
  n.send(hup(3));
  // 2 heard from 1 recently (lease) and ignores 3's vote request.
  assert.equal(c.state, StateType.Candidate);
  for (let i = 0; i < b.electionTimeout; i++) b.tick();
  n.send(hup(3));
  assert.equal(c.state, StateType.Leader);
});

Deno.test("check quorum: a stuck candidate rejoins via the MsgAppResp it triggers", () => {
  const n = new Network([undefined, undefined, undefined], checkQuorum);
  const [a, , c] = [n.raft(1), n.raft(2), n.raft(3)];
  n.send(hup(1));
  n.isolate(1);
  n.send(hup(3));
  n.send(hup(3));
  assert.equal(c.state, StateType.Candidate);
  assert.equal(c.term, a.term + 2);
  n.recover();
  n.send(msg({ from: 1n, to: 3n, type: MessageType.MsgHeartbeat, term: a.term }));
  // The leader learns 3's higher term from the response and steps down.
  assert.equal(a.state, StateType.Follower);
  assert.equal(c.term, a.term);
  n.send(hup(3));
  assert.equal(c.state, StateType.Leader);
});

Deno.test("log lines use etcd's wording", () => {
  const log = new CaptureLogger();
  const n = new Network([
    newTestRaft(1, 10, 1, newStorage(ids(1, 2)), { logger: log }),
    undefined,
  ]);
  n.send(hup(1));
  for (
    const want of [
      "1 is starting a new election at term 0",
      "1 became candidate at term 1",
      "1 [logterm: 0, index: 0] sent MsgVote request to 2 at term 1",
      "1 received MsgVoteResp from 1 at term 1",
      "1 has received 2 MsgVoteResp votes and 0 vote rejections",
      "1 became leader at term 1",
    ]
  ) assert.ok(log.lines.includes(want), `missing: ${want}\n${log.lines.join("\n")}`);
});
