import assert from "node:assert/strict";
import {
  ConfChangeType,
  decodeConfChange,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  decodeSnapshotMetadata,
  encodeConfChange,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  encodeSnapshotMetadata,
  EntryType,
  type Message,
  MessageType,
} from "../../src/raft/mod.ts";

const hexOf = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("codec: golden raftpb bytes", () => {
  assert.equal(hexOf(encodeHardState({ term: 1, vote: 2n, commit: 3 })), "080110021803");
  assert.equal(
    hexOf(encodeEntry({ type: EntryType.Normal, term: 1, index: 2, data: bytes("a") })),
    "08001001180222" + "0161",
  );
  assert.equal(
    hexOf(encodeConfChange({
      id: 0,
      type: ConfChangeType.AddNode,
      nodeId: 0x8e9e05c52164694dn,
      context: new Uint8Array(),
    })),
    "0800" + "1000" + "18cdd2918bd2b881cf8e01",
  );
  assert.equal(hexOf(encodeConfState({ voters: [1n, 2n], learners: [3n] })), "080108021003");
});

Deno.test("codec: round trips", () => {
  const hs = { term: 7, vote: 0xffffffffffffffffn, commit: 2 ** 40 };
  assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
  const e = { type: EntryType.ConfChange, term: 3, index: 99, data: bytes("xyz") };
  assert.deepEqual(decodeEntry(encodeEntry(e)), e);
  const cc = { id: 5, type: ConfChangeType.AddLearnerNode, nodeId: 123n, context: bytes("{}") };
  assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  const meta = { index: 10, term: 2, confState: { voters: [1n, 2n], learners: [9n] } };
  assert.deepEqual(decodeSnapshotMetadata(encodeSnapshotMetadata(meta)), meta);
  const snap = { metadata: meta, data: bytes("state") };
  assert.deepEqual(decodeSnapshot(encodeSnapshot(snap)), snap);
  const m: Message = {
    type: MessageType.MsgApp,
    to: 0xa3323a824b0b624bn,
    from: 2n,
    term: 4,
    logTerm: 3,
    index: 10,
    entries: [e, { type: EntryType.Normal, term: 4, index: 100, data: new Uint8Array() }],
    commit: 9,
    reject: true,
    rejectHint: 8,
    context: bytes("ctx"),
    snapshot: snap,
  };
  assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  const plain: Message = { ...m, entries: [], context: new Uint8Array() };
  delete plain.snapshot;
  assert.deepEqual(decodeMessage(encodeMessage(plain)), plain);
});

Deno.test("codec: packed repeated ids and unknown fields decode", () => {
  // voters as a packed field (wire type 2), then an unknown varint field 9.
  assert.deepEqual(decodeConfState(new Uint8Array([0x0a, 0x02, 0x01, 0x02, 0x48, 0x05])), {
    voters: [1n, 2n],
    learners: [],
  });
  assert.throws(() => decodeEntry(new Uint8Array([0x22, 0x05, 0x01])), RangeError);
});
