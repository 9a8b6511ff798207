import assert from "node:assert/strict";
import { AssertionError } from "../../src/assert/mod.ts";
import { ProtoDecodeError } from "../../src/pb/mod.ts";
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
const unhex = (s: string) => new Uint8Array(s.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);
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
  // Unknown fields of every wire type (field 15: varint, fixed64, bytes, fixed32, a group
  // holding a varint), and term sent as fixed64: all skipped, then index 7.
  const unknown = "7801" + "790102030405060708" + "7a03616263" + "7d01020304" + "7b0801" + "7c";
  assert.deepEqual(decodeEntry(unhex(unknown + "110000000000000001" + "1807")), {
    term: 0,
    index: 7,
    type: EntryType.Normal,
    data: new Uint8Array(),
  });
});

Deno.test("codec: malformed input fails with etcd's decoder errors", () => {
  const cases: [(b: Uint8Array) => unknown, string, string][] = [
    [decodeEntry, "220501", "unexpected EOF"], // data longer than the input
    [decodeEntry, "10ff", "unexpected EOF"], // varint cut short
    [decodeEntry, "10ffffffffffffffffffff01", "proto: integer overflow"], // eleven bytes
    [decodeEntry, "0000", "proto: Entry: illegal tag 0 (wire type 0)"],
    [decodeHardState, "0c", "proto: HardState: wiretype end group for non-group"],
    [decodeHardState, "0e", "proto: illegal wireType 6"],
    [decodeConfState, "0a0380", "unexpected EOF"], // packed ID cut short
    [decodeConfState, "0a018001", "unexpected EOF"], // packed ID runs past its field
    // An entry whose data runs past the entry's own length, inside a message.
    [decodeMessage, "3a02" + "2203" + "616263", "unexpected EOF"],
    [decodeSnapshot, "1202" + "0a05", "unexpected EOF"], // conf state past the metadata
  ];
  for (const [decode, h, message] of cases) {
    assert.throws(() => decode(unhex(h)), (err) => {
      assert.ok(err instanceof ProtoDecodeError, `${h}: ${err}`);
      assert.equal(err.message, message, h);
      return true;
    });
  }
});

Deno.test("codec: decoded bytes are copies, not views of the input", () => {
  const wire = Buffer.from(
    encodeEntry({ type: EntryType.Normal, term: 1, index: 2, data: bytes("a") }),
  );
  const e = decodeEntry(wire);
  wire.fill(0);
  assert.deepEqual(e.data, bytes("a"));
  assert.equal(e.data.constructor, Uint8Array);
});

Deno.test("codec: a uint64 that is negative or past 2^53 is refused, not sent corrupted", () => {
  const e = { type: EntryType.Normal, term: 1, index: 2, data: new Uint8Array() };
  assert.throws(() => encodeEntry({ ...e, index: -1 }), AssertionError);
  assert.throws(() => encodeEntry({ ...e, term: 2 ** 53 }), AssertionError);
  assert.throws(() => encodeHardState({ term: 1, vote: 1n, commit: 0.5 }), AssertionError);
});
