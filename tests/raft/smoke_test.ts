import assert from "node:assert/strict";
import { MemoryStorage, RawNode, StateType } from "../../src/raft/mod.ts";
import { hup, Network, prop } from "../helpers/raft.ts";

Deno.test("three nodes elect a leader and replicate", () => {
  const n = new Network([undefined, undefined, undefined]);
  n.send(hup(1));
  assert.equal(n.raft(1).state, StateType.Leader);
  n.send(prop(1));
  for (const id of [1, 2, 3]) assert.equal(n.raft(id).raftLog.committed, 2);
});

Deno.test("single node bootstraps, campaigns and commits", () => {
  const s = new MemoryStorage();
  const rn = new RawNode({
    id: 1n,
    electionTick: 10,
    heartbeatTick: 1,
    storage: s,
    random: () => 0,
  });
  rn.bootstrap([{ id: 1n, context: new Uint8Array() }]);
  let rd = rn.ready();
  s.append(rd.entries);
  if (rd.hardState) s.setHardState(rd.hardState);
  assert.equal(rd.committedEntries.length, 1);
  rn.advance(rd);
  rn.campaign();
  rd = rn.ready();
  assert.equal(rd.softState?.raftState, StateType.Leader);
  s.append(rd.entries);
  rn.advance(rd);
  rn.propose(new TextEncoder().encode("x"));
  rd = rn.ready();
  s.append(rd.entries);
  assert.equal(rd.committedEntries.at(-1)?.index, 3);
  rn.advance(rd);
});
