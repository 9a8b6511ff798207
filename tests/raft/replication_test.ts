import assert from "node:assert/strict";
import { Raft } from "../../src/raft/raft.ts";
import { Inflights, Progress } from "../../src/raft/progress.ts";
import {
  type Entry,
  MessageType,
  ProgressStateType,
  type Snapshot,
  StateType,
} from "../../src/raft/types.ts";
import { newEntry } from "../../src/raft/util.ts";
import { restore } from "../../src/raft/membership.ts";
import {
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

const e = (index: number, term: number, data = ""): Entry =>
  newEntry({ index, term, data: new TextEncoder().encode(data) });

function leaderOf(peers: number[], opts = {}): Raft {
  const r = newTestRaft(1, 10, 1, newStorage(peers.map(BigInt)), opts);
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  return r;
}

Deno.test("log replication reaches every node and commits", () => {
  const cases: { net: () => Network; msgs: [number, string][]; wcommitted: number }[] = [
    { net: () => new Network([undefined, undefined, undefined]), msgs: [[1, "a"]], wcommitted: 2 },
    {
      net: () => new Network([undefined, undefined, undefined]),
      msgs: [[1, "a"], [2, "b"], [1, "c"]],
      wcommitted: 4,
    },
  ];
  for (const c of cases) {
    const n = c.net();
    n.send(hup(1));
    for (const [id, data] of c.msgs) n.send(prop(id, data));
    for (const id of [1, 2, 3]) {
      const r = n.raft(id);
      assert.equal(r.raftLog.committed, c.wcommitted);
      const data = r.raftLog.allEntries().filter((x) => x.data.length > 0)
        .map((x) => new TextDecoder().decode(x.data));
      assert.deepEqual(data, c.msgs.map(([, d]) => d));
    }
  }
});

Deno.test("commit: a majority of matches, and only for entries of the current term", () => {
  const cases: [number[], number[], number, number][] = [
    [[1], [1], 1, 1],
    [[1], [1], 2, 0],
    [[2], [1, 2], 2, 2],
    [[1], [2], 2, 1],
    [[2, 1, 1], [1, 2], 1, 1],
    [[2, 1, 1], [1, 1], 2, 0],
    [[2, 1, 2], [1, 2], 2, 2],
    [[2, 1, 2], [1, 1], 2, 0],
    [[2, 1, 1, 1], [1, 2], 1, 1],
    [[2, 1, 1, 1], [1, 1], 2, 0],
    [[2, 1, 1, 2], [1, 2], 1, 1],
    [[2, 1, 1, 2], [1, 1], 2, 0],
    [[2, 1, 2, 2], [1, 2], 2, 2],
    [[2, 1, 2, 2], [1, 1], 2, 0],
  ];
  for (const [i, [matches, terms, smTerm, want]] of cases.entries()) {
    const s = newStorage(ids(1));
    s.append(terms.map((t, j) => e(j + 1, t)));
    s.setHardState({ term: smTerm, vote: 0n, commit: 0 });
    const r = newTestRaft(1, 10, 2, s);
    matches.forEach((m, j) => {
      r.prs.addNode(BigInt(j + 1), false, m + 1);
      r.prs.progress.get(BigInt(j + 1))!.match = m;
    });
    r.maybeCommit();
    assert.equal(r.raftLog.committed, want, `#${i}`);
  }
});

Deno.test("a new leader commits earlier-term entries only through an entry of its term", () => {
  // Entry 2 (term 1) sits on a majority, but the new leader at term 2 must not count it.
  const s = newStorage(ids(1, 2, 3));
  s.append([e(1, 1), e(2, 1)]);
  s.setHardState({ term: 1, vote: 0n, commit: 1 });
  const r = newTestRaft(1, 10, 1, s);
  r.becomeCandidate();
  r.becomeLeader(); // appends the empty entry 3 at term 2
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgAppResp, term: r.term, index: 2 }));
  assert.equal(r.raftLog.committed, 1);
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgAppResp, term: r.term, index: 3 }));
  assert.equal(r.raftLog.committed, 3);
});

Deno.test("follower append: conflicts truncate, mismatches are rejected with a hint", () => {
  const cases: {
    index: number;
    logTerm: number;
    ents: Entry[];
    want: number[];
    reject: boolean;
  }[] = [
    { index: 2, logTerm: 2, ents: [e(3, 3)], want: [1, 2, 3], reject: false },
    { index: 1, logTerm: 1, ents: [e(2, 3), e(3, 4)], want: [1, 3, 4], reject: false },
    { index: 0, logTerm: 0, ents: [e(1, 1)], want: [1, 2], reject: false },
    { index: 0, logTerm: 0, ents: [e(1, 3)], want: [3], reject: false },
    { index: 2, logTerm: 3, ents: [e(3, 3)], want: [1, 2], reject: true },
    { index: 3, logTerm: 2, ents: [], want: [1, 2], reject: true },
  ];
  for (const [i, c] of cases.entries()) {
    const r = raftWithLog(2, [1, 2], ids(1, 2, 3));
    r.becomeFollower(2, 1n);
    r.step(msg({
      from: 1n,
      to: 2n,
      type: MessageType.MsgApp,
      term: 2,
      index: c.index,
      logTerm: c.logTerm,
      entries: c.ents,
    }));
    assert.deepEqual(r.raftLog.allEntries().map((x) => x.term), c.want, `#${i}`);
    const resp = readMessages(r)[0];
    assert.equal(resp.reject, c.reject, `#${i}`);
    if (c.reject) assert.equal(resp.rejectHint, 2);
  }
});

Deno.test("a rejected probe moves next back to the follower's last index + 1", () => {
  const n = new Network([undefined, raftWithLog(2, [], ids(1, 2, 3)), undefined]);
  n.send(hup(1));
  for (let i = 0; i < 5; i++) n.send(prop(1));
  const r = n.raft(1);
  const pr = r.prs.progress.get(2n)!;
  assert.equal(pr.match, 6);
  assert.equal(pr.state, ProgressStateType.Replicate);
});

Deno.test("progress: maybeDecrTo", () => {
  const cases: [ProgressStateType, number, number, number, number, boolean, number][] = [
    // state, match, next, rejected, hint, wok, wnext
    [ProgressStateType.Replicate, 5, 10, 5, 5, false, 10], // stale
    [ProgressStateType.Replicate, 5, 10, 4, 4, false, 10], // stale
    [ProgressStateType.Replicate, 5, 10, 9, 9, true, 6],
    [ProgressStateType.Probe, 0, 0, 0, 0, false, 0], // next-1 != rejected
    [ProgressStateType.Probe, 0, 10, 5, 5, false, 10],
    [ProgressStateType.Probe, 0, 10, 9, 9, true, 9],
    [ProgressStateType.Probe, 0, 2, 1, 1, true, 1],
    [ProgressStateType.Probe, 0, 1, 0, 0, true, 1], // next never below 1
    [ProgressStateType.Probe, 0, 10, 9, 2, true, 3], // hint lower than rejected
    [ProgressStateType.Probe, 0, 10, 9, 0, true, 1],
  ];
  for (const [i, [state, m, n, rejected, hint, wok, wnext]] of cases.entries()) {
    const p = new Progress(m, n, 256, false);
    p.state = state;
    assert.equal(p.maybeDecrTo(rejected, hint), wok, `#${i}`);
    assert.equal(p.next, wnext, `#${i} next`);
  }
});

Deno.test("progress: paused states and state transitions", () => {
  const p = new Progress(3, 5, 2, false);
  assert.equal(p.isPaused(), false);
  p.probeSent = true;
  assert.equal(p.isPaused(), true);
  assert.equal(p.maybeUpdate(4), true); // an ack un-pauses a probe
  assert.equal(p.isPaused(), false);
  assert.equal(p.maybeUpdate(4), false);
  p.becomeReplicate();
  assert.equal(p.next, 5);
  p.inflights.add(5);
  p.inflights.add(6);
  assert.equal(p.isPaused(), true);
  p.becomeSnapshot(10);
  assert.equal(p.isPaused(), true);
  p.becomeProbe();
  assert.equal(p.next, 11); // after a snapshot, probe from past it
  assert.equal(p.state, ProgressStateType.Probe);
});

Deno.test("inflights: add, freeLE, freeFirstOne, full", () => {
  const ins = new Inflights(3);
  ins.add(1);
  ins.add(5);
  ins.add(9);
  assert.equal(ins.full(), true);
  assert.throws(() => ins.add(10));
  ins.freeLE(5);
  assert.equal(ins.count(), 1);
  ins.freeFirstOne();
  assert.equal(ins.count(), 0);
});

Deno.test("replicate state pipelines up to maxInflightMsgs, probe sends one at a time", () => {
  const r = leaderOf([1, 2], { maxInflightMsgs: 3 });
  const pr = r.prs.progress.get(2n)!;
  // Probe state: one append goes out, then we wait.
  for (let i = 0; i < 5; i++) r.step(prop(1));
  assert.equal(readMessages(r).filter((m) => m.type === MessageType.MsgApp).length, 1);
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgAppResp, term: r.term, index: 1 }));
  assert.equal(pr.state, ProgressStateType.Replicate);
  readMessages(r);
  for (let i = 0; i < 10; i++) r.step(prop(1));
  const apps = readMessages(r).filter((m) => m.type === MessageType.MsgApp);
  // The ack already triggered one append of the five queued entries: two more fit.
  assert.equal(apps.length, 2);
  assert.equal(pr.inflights.full(), true);
  // A heartbeat response frees one slot when the window is stuck.
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgHeartbeatResp, term: r.term }));
  assert.equal(readMessages(r).filter((m) => m.type === MessageType.MsgApp).length, 1);
});

Deno.test("maxSizePerMsg splits appends", () => {
  const r = leaderOf([1, 2], { maxSizePerMsg: 40 });
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgAppResp, term: r.term, index: 1 }));
  readMessages(r);
  for (let i = 0; i < 6; i++) r.step(prop(1, "0123456789"));
  const apps = readMessages(r).filter((m) => m.type === MessageType.MsgApp);
  assert.ok(apps.length >= 3, `${apps.length} messages`);
  for (const m of apps) assert.ok(m.entries.length <= 2);
});

Deno.test("heartbeats carry min(match, committed)", () => {
  const r = leaderOf([1, 2, 3]);
  for (let i = 0; i < 3; i++) r.step(prop(1));
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgAppResp, term: r.term, index: 4 }));
  readMessages(r);
  r.step(msg({ from: 1n, to: 1n, type: MessageType.MsgBeat }));
  const hb = readMessages(r).filter((m) => m.type === MessageType.MsgHeartbeat);
  assert.deepEqual(hb.map((m) => [m.to, m.commit]), [[2n, 4], [3n, 0]]);
});

function compactedLeader(): Raft {
  const s = newStorage(ids(1, 2));
  s.append([e(1, 1), e(2, 1), e(3, 1)]);
  s.setHardState({ term: 1, vote: 0n, commit: 3 });
  s.createSnapshot(3, { voters: ids(1, 2), learners: [] }, new Uint8Array([7]));
  s.compact(3);
  const r = newTestRaft(1, 10, 1, s);
  r.becomeCandidate();
  r.becomeLeader();
  readMessages(r);
  return r;
}

Deno.test("a follower behind the first index gets the snapshot; reportSnapshot resumes", () => {
  const r = compactedLeader();
  const pr = r.prs.progress.get(2n)!;
  pr.next = 1;
  pr.recentActive = true;
  r.step(prop(1));
  const snaps = readMessages(r).filter((m) => m.type === MessageType.MsgSnap);
  assert.equal(snaps.length, 1);
  assert.equal(snaps[0].snapshot!.metadata.index, 3);
  assert.equal(pr.state, ProgressStateType.Snapshot);
  assert.equal(pr.pendingSnapshot, 3);
  // Failure: back to probing, paused until the next heartbeat response.
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgSnapStatus, reject: true }));
  assert.equal(pr.state, ProgressStateType.Probe);
  assert.equal(pr.pendingSnapshot, 0);
  assert.equal(pr.isPaused(), true);
  // Success path: the follower's ack at the snapshot index switches to replicate.
  pr.becomeSnapshot(3);
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgSnapStatus }));
  assert.equal(pr.state, ProgressStateType.Probe);
  assert.equal(pr.next, 4);
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgAppResp, term: r.term, index: 3 }));
  assert.equal(pr.state, ProgressStateType.Replicate);
});

Deno.test("no snapshot to a follower that is not recently active", () => {
  const r = compactedLeader();
  const pr = r.prs.progress.get(2n)!;
  pr.next = 1;
  pr.recentActive = false;
  r.step(prop(1));
  assert.equal(readMessages(r).filter((m) => m.type === MessageType.MsgSnap).length, 0);
});

function snap(index: number, term: number, voters = ids(1, 2)): Snapshot {
  return { metadata: { index, term, confState: { voters, learners: [] } }, data: new Uint8Array() };
}

Deno.test("restore: installs a snapshot, ignores stale ones, fast-forwards on a match", () => {
  const r = newTestRaft(1, 10, 1, newStorage(ids(1, 2)));
  assert.equal(restore(r, snap(11, 11, ids(1, 2, 3))), true);
  assert.equal(r.raftLog.lastIndex(), 11);
  assert.equal(r.raftLog.term(11), 11);
  assert.deepEqual(r.prs.confState().voters, ids(1, 2, 3));
  assert.equal(restore(r, snap(11, 11)), false); // not newer than commit
  assert.equal(restore(r, snap(12, 12, ids(2, 3))), false); // a configuration without us
  // A fresh node (no configuration yet) joins as a learner through a snapshot.
  const fresh = newTestRaft(4, 10, 1, newStorage([]));
  const joining = snap(5, 2, ids(1, 2));
  joining.metadata.confState.learners = ids(4);
  assert.equal(restore(fresh, joining), true);
  assert.equal(fresh.isLearner, true);
  // Matching term at that index: only the commit index moves.
  const f = raftWithLog(1, [1, 2, 3], ids(1, 2));
  assert.equal(restore(f, snap(2, 2)), false);
  assert.equal(f.raftLog.committed, 2);
  assert.equal(f.raftLog.lastIndex(), 3);
});

Deno.test("MsgSnap from the leader: restored follower acks the snapshot index", () => {
  const r = newTestRaft(2, 10, 1, newStorage(ids(1, 2)));
  r.step(msg({ from: 1n, to: 2n, type: MessageType.MsgSnap, term: 2, snapshot: snap(11, 11) }));
  assert.equal(r.state, StateType.Follower);
  assert.equal(r.lead, 1n);
  const resp = readMessages(r)[0];
  assert.equal(resp.type, MessageType.MsgAppResp);
  assert.equal(resp.index, 11);
});

Deno.test("unreachable follower in replicate state falls back to probe", () => {
  const r = leaderOf([1, 2]);
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgAppResp, term: r.term, index: 1 }));
  const pr = r.prs.progress.get(2n)!;
  assert.equal(pr.state, ProgressStateType.Replicate);
  r.step(msg({ from: 2n, to: 1n, type: MessageType.MsgUnreachable }));
  assert.equal(pr.state, ProgressStateType.Probe);
});
