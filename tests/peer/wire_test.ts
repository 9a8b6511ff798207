// Framing of raft messages, snapshot uploads, /members JSON with exact 64-bit IDs, and the
// version compatibility rule.
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeMessage, encodeMessage, type Message, MessageType } from "../../src/raft/mod.ts";
import {
  decodeSnapshotBody,
  encodeFrames,
  encodeSnapshotHead,
  frameChunk,
  FrameDecoder,
} from "../../src/peer/wire.ts";
import { versionIncompatibility } from "../../src/peer/checks.ts";
import { formatMembersJSON, parseMembersJSON, type PeerMember } from "../../src/peer/mod.ts";
import { message, patternBytes } from "../helpers/peer.ts";

const BIG = 0xa3323a824b0b624bn; // 11759525908296983115 > 2^53

function sample(n: number): Message[] {
  return Array.from({ length: n }, (_, i) =>
    message(BIG, 0xffffffffffffffffn, i + 1, {
      type: i % 2 ? MessageType.MsgHeartbeat : MessageType.MsgApp,
      entries: i % 3 === 0
        ? [{ term: 2, index: i + 1, type: 0, data: new Uint8Array(i * 7).fill(i) }]
        : [],
      context: new Uint8Array(i % 4),
    }));
}

Deno.test("frames survive every split of the byte stream", () => {
  const msgs = sample(12);
  const bytes = encodeFrames(msgs);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = new FrameDecoder(1 << 20);
    const out = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
    assert.deepEqual(out, msgs);
    assert.equal(d.pending, 0);
  }
});

Deno.test("frames survive arbitrary chunking (property)", () => {
  const msgs = sample(20);
  const bytes = encodeFrames(msgs);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 30 }), (cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
      const d = new FrameDecoder(1 << 20);
      const out: Message[] = [];
      for (let i = 1; i < points.length; i++) {
        out.push(...d.push(bytes.subarray(points[i - 1], points[i])));
      }
      assert.deepEqual(out, msgs);
    }),
  );
});

Deno.test("a batch chunk is one HTTP/1.1 chunk of frames", () => {
  const msgs = sample(5);
  const encoded = msgs.map(encodeMessage);
  const chunk = frameChunk(encoded);
  const text = new TextDecoder("latin1").decode(chunk);
  const eol = text.indexOf("\r\n");
  const size = parseInt(text.slice(0, eol), 16);
  assert.equal(size, chunk.length - eol - 4);
  assert.equal(text.slice(-2), "\r\n");
  assert.deepEqual(chunk.subarray(eol + 2, chunk.length - 2), encodeFrames(msgs));
});

Deno.test("an oversized frame is refused", () => {
  const d = new FrameDecoder(10);
  assert.throws(
    () => d.push(encodeFrames(sample(1).map((m) => ({ ...m, context: new Uint8Array(50) })))),
    /exceeds 10/,
  );
});

Deno.test("snapshot upload: message head, then the backend file as snapshot data", () => {
  const m = message(1n, 2n, 0, {
    type: MessageType.MsgSnap,
    snapshot: {
      metadata: { index: 42, term: 3, confState: { voters: [1n, 2n, BIG], learners: [] } },
      data: new TextEncoder().encode("small raft snapshot data"),
    },
  });
  const db = patternBytes(300_000);
  const head = encodeSnapshotHead(m);
  const body = new Uint8Array(head.length + db.length);
  body.set(head);
  body.set(db, head.length);
  const got = decodeSnapshotBody(body);
  assert.deepEqual(got.snapshot!.metadata, m.snapshot!.metadata);
  assert.deepEqual(got.snapshot!.data, db);
  assert.equal(got.type, MessageType.MsgSnap);
  assert.throws(() => decodeSnapshotBody(head.subarray(0, 5)), /short/);
  assert.throws(() => decodeSnapshotBody(head.subarray(0, head.length - 1)), /short/);
  // The head carries no raft snapshot data: it is replaced by the backend file.
  const bare = decodeMessage(head.subarray(8));
  assert.equal(bare.snapshot!.data.length, 0);
});

const members: PeerMember[] = [
  {
    id: BIG,
    name: "s1",
    peerURLs: ["http://127.0.5.1:2380"],
    clientURLs: ["http://127.0.5.1:2379"],
    isLearner: false,
  },
  { id: 0x10n, name: "", peerURLs: ["http://127.0.5.2:2380"], clientURLs: [], isLearner: true },
  {
    id: 0xffffffffffffffffn,
    name: 'a<b>&"q"\n',
    peerURLs: ["http://x:1", "http://y:2"],
    clientURLs: ["http://c:3"],
    isLearner: false,
  },
];

Deno.test("/members JSON is etcd's: numeric IDs, omitempty, sorted, newline", () => {
  assert.equal(
    formatMembersJSON(members),
    '[{"id":16,"peerURLs":["http://127.0.5.2:2380"],"isLearner":true},' +
      '{"id":11759525908296983115,"peerURLs":["http://127.0.5.1:2380"],"name":"s1",' +
      '"clientURLs":["http://127.0.5.1:2379"]},' +
      '{"id":18446744073709551615,"peerURLs":["http://x:1","http://y:2"],' +
      '"name":"a\\u003cb\\u003e\\u0026\\"q\\"\\n","clientURLs":["http://c:3"]}]\n',
  );
  assert.equal(formatMembersJSON([]), "[]\n");
});

Deno.test("/members JSON parses back with exact 64-bit IDs", () => {
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : 1));
  assert.deepEqual(parseMembersJSON(formatMembersJSON(members)), sorted);
  assert.deepEqual(parseMembersJSON("null"), []);
  const [m] = parseMembersJSON('[{"id":9007199254740993,"peerURLs":["u"]}]');
  assert.equal(m.id, 9007199254740993n); // 2^53 + 1, not representable as a double
  assert.throws(() => parseMembersJSON('{"id":1}'), /not a JSON array/);
  assert.throws(() => parseMembersJSON('[{"id":1.5,"peerURLs":[]}]'), /invalid member id/);
  assert.throws(() => parseMembersJSON('[{"id":18446744073709551616}]'), /overflows/);
  assert.throws(() => parseMembersJSON('[{"id":1,"peerURLs":"u"}]'), /peerURLs/);
  assert.throws(() => parseMembersJSON("404 page not found\n"));
});

Deno.test("version compatibility follows etcd's major.minor rule", () => {
  assert.equal(versionIncompatibility("a", "3.4.23", "3.0.0"), undefined);
  assert.equal(versionIncompatibility("a", "3.0.0", "3.0.0"), undefined);
  assert.equal(versionIncompatibility("a", "3.5.9", "3.4.0"), undefined);
  assert.equal(
    versionIncompatibility("a", undefined, undefined),
    "remote version is too low: remote[a]=2.0.0, local=3.4.23",
  );
  assert.equal(
    versionIncompatibility("a", "3.6.0", "3.5.0"),
    "local version is too low: remote[a]=3.6.0, local=3.4.23",
  );
  assert.match(versionIncompatibility("a", "banana", "3.0.0")!, /malformed/);
});
