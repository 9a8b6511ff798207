import assert from "node:assert/strict";
import {
  ConfChangeType,
  decodeConfChange,
  EntryType,
  ErrProposalDropped,
  ErrStepLocalMsg,
  ErrStepPeerNotFound,
  MemoryStorage,
  MessageType,
  type RaftConfig,
  RawNode,
  type Ready,
  StateType,
} from "../../src/raft/mod.ts";
import { newMessage } from "../../src/raft/util.ts";
import { CaptureLogger } from "../helpers/raft.ts";

const enc = new TextEncoder();

function node(id: bigint, s: MemoryStorage, extra: Partial<RaftConfig> = {}): RawNode {
  return new RawNode({
    id,
    electionTick: 10,
    heartbeatTick: 1,
    storage: s,
    random: () => 0,
    ...extra,
  });
}

/** Persists and applies a Ready the way a server does. */
function handle(rn: RawNode, s: MemoryStorage, rd: Ready): void {
  if (rd.snapshot) s.applySnapshot(rd.snapshot);
  s.append(rd.entries);
  if (rd.hardState) s.setHardState(rd.hardState);
  for (const e of rd.committedEntries) {
    if (e.type === EntryType.ConfChange) rn.applyConfChange(decodeConfChange(e.data));
  }
  rn.advance(rd);
}

Deno.test("bootstrap: committed ConfChange entries at term 1 in the first Ready", () => {
  const s = new MemoryStorage();
  const rn = node(1n, s);
  const peers = [1n, 2n, 3n].map((id) => ({ id, context: enc.encode(`{"id":${id}}`) }));
  rn.bootstrap(peers);
  assert.equal(rn.hasReady(), true);
  const rd = rn.ready();
  assert.deepEqual(rd.hardState, { term: 1, vote: 0n, commit: 3 });
  assert.equal(rd.mustSync, true);
  assert.deepEqual(rd.entries.map((e) => [e.index, e.term, e.type]), [
    [1, 1, EntryType.ConfChange],
    [2, 1, EntryType.ConfChange],
    [3, 1, EntryType.ConfChange],
  ]);
  assert.deepEqual(rd.committedEntries, rd.entries);
  const cc = decodeConfChange(rd.entries[1].data);
  assert.equal(cc.type, ConfChangeType.AddNode);
  assert.equal(cc.nodeId, 2n);
  assert.deepEqual(cc.context, enc.encode('{"id":2}'));
  handle(rn, s, rd);
  assert.deepEqual(rn.status().config.voters, [1n, 2n, 3n]);
  assert.equal(rn.hasReady(), false);
  assert.throws(() => node(1n, s).bootstrap(peers), /can't bootstrap a nonempty Storage/);
});

Deno.test("propose without a leader throws ErrProposalDropped; local messages are refused", () => {
  const s = new MemoryStorage();
  const rn = node(1n, s);
  rn.bootstrap([{ id: 1n, context: new Uint8Array() }, { id: 2n, context: new Uint8Array() }]);
  handle(rn, s, rn.ready());
  assert.throws(() => rn.propose(enc.encode("x")), (e) => e === ErrProposalDropped);
  assert.throws(
    () => rn.step(newMessage({ type: MessageType.MsgHup })),
    (e) => e === ErrStepLocalMsg,
  );
  assert.throws(
    () => rn.step(newMessage({ type: MessageType.MsgAppResp, from: 9n, term: 1 })),
    (e) => e === ErrStepPeerNotFound,
  );
});

Deno.test("single node: campaign, propose, commit, soft state and early send", () => {
  const log = new CaptureLogger();
  const s = new MemoryStorage();
  const rn = node(1n, s, { logger: log });
  rn.bootstrap([{ id: 1n, context: new Uint8Array() }]);
  handle(rn, s, rn.ready());
  rn.campaign();
  let rd = rn.ready();
  assert.deepEqual(rd.softState, { lead: 1n, raftState: StateType.Leader });
  assert.deepEqual(rd.hardState, { term: 2, vote: 1n, commit: 2 });
  // Term and vote changed: they must be durable before anything is sent.
  assert.equal(rn.maySendBeforePersist(rd), false);
  handle(rn, s, rd);
  assert.ok(log.lines.includes("raft.node: 1 elected leader 1 at term 2"));
  rn.propose(enc.encode("hello"));
  rd = rn.ready();
  assert.equal(rd.softState, undefined);
  assert.equal(rd.entries.length, 1);
  assert.equal(rd.committedEntries.at(-1)!.index, 3);
  assert.equal(rn.maySendBeforePersist(rd), true);
  handle(rn, s, rd);
  assert.equal(rn.hasReady(), false);
  assert.equal(rn.status().applied, 3);
  assert.equal(rn.status().progress.get(1n)!.match, 3);
  rn.readIndex(enc.encode("r1"));
  rd = rn.ready();
  assert.deepEqual(rd.readStates, [{ index: 3, requestCtx: enc.encode("r1") }]);
  assert.equal(rd.mustSync, false);
  handle(rn, s, rd);
  assert.equal(rn.hasReady(), false);
});

Deno.test("a candidate's Ready must be persisted before its vote requests leave", () => {
  const s = new MemoryStorage();
  const rn = node(1n, s);
  rn.bootstrap([1n, 2n, 3n].map((id) => ({ id, context: new Uint8Array() })));
  handle(rn, s, rn.ready());
  rn.campaign();
  const rd = rn.ready();
  assert.equal(rd.messages.filter((m) => m.type === MessageType.MsgVote).length, 2);
  assert.equal(rn.maySendBeforePersist(rd), false);
  assert.equal(rd.mustSync, true);
});

Deno.test("restart: committed entries after `applied` are handed out again", () => {
  const s = new MemoryStorage();
  const rn = node(1n, s);
  rn.bootstrap([{ id: 1n, context: new Uint8Array() }]);
  handle(rn, s, rn.ready());
  rn.campaign();
  handle(rn, s, rn.ready());
  for (const d of ["a", "b", "c"]) rn.propose(enc.encode(d));
  handle(rn, s, rn.ready());
  // The application had applied up to index 3 when it stopped.
  s.createSnapshot(1, { voters: [1n], learners: [] }, new Uint8Array());
  const again = node(1n, s, { applied: 3 });
  const rd = again.ready();
  assert.equal(rd.hardState, undefined); // already durable
  assert.deepEqual(rd.committedEntries.map((e) => e.index), [4, 5]);
  assert.equal(again.status().hardState.commit, 5);
});

Deno.test("config validation uses etcd's messages", () => {
  const s = new MemoryStorage();
  assert.throws(() => node(0n, s), /cannot use none as id/);
  assert.throws(() => node(1n, s, { heartbeatTick: 0 }), /heartbeat tick must be greater than 0/);
  assert.throws(
    () => node(1n, s, { electionTick: 1 }),
    /election tick must be greater than heartbeat tick/,
  );
  assert.throws(() => node(1n, s, { maxInflightMsgs: 0 }), /max inflight messages/);
});

Deno.test("a follower restarted without its log panics as etcd does", () => {
  const s = new MemoryStorage();
  s.setHardState({ term: 2, vote: 0n, commit: 8 });
  assert.throws(() => node(1n, s), /state.commit 8 is out of range \[0, 0\]/);
  const rn = node(1n, new MemoryStorage());
  assert.throws(
    () => rn.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, term: 3, commit: 8 })),
    /tocommit\(8\) is out of range \[lastIndex\(0\)\]. Was the raft log corrupted, truncated, or lost\?/,
  );
});

Deno.test("proposeAll: the entries are appended in order, each follower gets one MsgApp", () => {
  const s = new MemoryStorage();
  const rn = node(1n, s);
  rn.bootstrap([1n, 2n, 3n].map((id) => ({ id, context: new Uint8Array() })));
  handle(rn, s, rn.ready());
  rn.campaign();
  handle(rn, s, rn.ready());
  for (const from of [2n, 3n]) {
    rn.step(newMessage({ type: MessageType.MsgVoteResp, from, to: 1n, term: 2 }));
  }
  let rd = rn.ready();
  assert.deepEqual(rd.softState, { lead: 1n, raftState: StateType.Leader });
  handle(rn, s, rd);
  // Both followers hold the leader's empty entry: they move to replicating.
  const last = rn.status().progress.get(1n)!.match;
  for (const from of [2n, 3n]) {
    rn.step(newMessage({ type: MessageType.MsgAppResp, from, to: 1n, term: 2, index: last }));
  }
  handle(rn, s, rn.ready());
  rn.proposeAll(["a", "b", "c"].map((t) => enc.encode(t)));
  rd = rn.ready();
  assert.deepEqual(
    rd.entries.map((e) => [e.index, new TextDecoder().decode(e.data)]),
    [[last + 1, "a"], [last + 2, "b"], [last + 3, "c"]],
  );
  const apps = rd.messages.filter((m) => m.type === MessageType.MsgApp && m.entries.length > 0);
  assert.deepEqual(apps.map((m) => [m.to, m.entries.length]), [[2n, 3], [3n, 3]]);
});
