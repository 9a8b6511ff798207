// etcd's stream encodings (message and msgappv2, with link heartbeats), the chunked transfer
// coding they travel in, the snapshot upload's head, /members JSON with exact 64-bit IDs, and
// the version compatibility rule.
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Entry, type Message, MessageType } from "../../src/raft/mod.ts";
import {
  encodeMessageFrame,
  isLinkHeartbeat,
  linkHeartbeat,
  messageEncoder,
  messageReader,
  MsgAppV2Encoder,
  msgAppV2Reader,
  readMessageFrom,
  StreamDecoder,
  type StreamEncoder,
} from "../../src/peer/codec.ts";
import { ChunkedDecoder, encodeChunk, LAST_CHUNK } from "../../src/peer/chunked.ts";
import { versionIncompatibility } from "../../src/peer/checks.ts";
import { formatMembersJSON, parseMembersJSON, type PeerMember } from "../../src/peer/mod.ts";
import { message, patternBytes } from "../helpers/peer.ts";

const BIG = 0xa3323a824b0b624bn; // 11759525908296983115 > 2^53
const LEADER = BIG;
const FOLLOWER = 0xffffffffffffffffn;

function entries(term: number, first: number, n: number): Entry[] {
  return Array.from({ length: n }, (_, k) => ({
    term,
    index: first + k,
    type: k % 2,
    data: new Uint8Array((first + k) % 50).fill(k),
  }));
}

/** What a leader sends a follower: appends continuing each other, heartbeats, a new term. */
function leaderTraffic(): Message[] {
  const app = (term: number, logTerm: number, index: number, n: number, commit: number) =>
    message(LEADER, FOLLOWER, index, {
      term,
      logTerm,
      entries: entries(term, index + 1, n),
      commit,
    });
  return [
    app(2, 1, 10, 3, 10), // whole: nothing sent before
    app(2, 2, 13, 2, 12), // short form: continues at term 2
    app(2, 2, 15, 0, 15), // short form, no entries
    linkHeartbeat(),
    app(2, 2, 15, 4, 15),
    app(2, 2, 12, 1, 15), // a retry from further back: whole
    app(2, 2, 13, 1, 15), // short form again
    app(3, 2, 13, 2, 13), // new term: whole
    app(3, 3, 15, 1, 14), // short form at term 3
  ];
}

function encodeAll(enc: StreamEncoder, msgs: Message[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const m of msgs) enc.encode(m, parts);
  return new Uint8Array(parts.flatMap((p) => [...p]));
}

/** Decodes `bytes` cut at `points`, dropping link heartbeats as a reader does. */
function decodeCut(d: StreamDecoder, bytes: Uint8Array, points: number[]): Message[] {
  const cuts = [0, ...points.sort((a, b) => a - b), bytes.length];
  const out: Message[] = [];
  for (let i = 1; i < cuts.length; i++) out.push(...d.push(bytes.subarray(cuts[i - 1], cuts[i])));
  assert.equal(d.pending, 0);
  return out;
}

Deno.test("msgappv2: continuing appends go as entries only and come back whole", () => {
  const msgs = leaderTraffic();
  // The type byte each message starts with: 2 whole, 1 entries only, 0 link heartbeat.
  const enc = new MsgAppV2Encoder();
  const types = msgs.map((m) => {
    const parts: Uint8Array[] = [];
    enc.encode(m, parts);
    return parts[0][0];
  });
  assert.deepEqual(types, [2, 1, 1, 0, 1, 2, 1, 2, 1]);
  const bytes = encodeAll(new MsgAppV2Encoder(), msgs);
  const got = decodeCut(new StreamDecoder(msgAppV2Reader(FOLLOWER, LEADER)), bytes, []);
  assert.deepEqual(got, msgs);
  assert.ok(isLinkHeartbeat(got[3]));
  // The short form is smaller than the whole message would be.
  const whole = encodeAll(messageEncoder, msgs);
  assert.ok(bytes.length < whole.length, `${bytes.length} < ${whole.length}`);
});

Deno.test("msgappv2 bytes are etcd's: type, lengths, entries, commit", () => {
  const [first, second] = leaderTraffic();
  const bytes = encodeAll(new MsgAppV2Encoder(), [first, second]);
  const view = new DataView(bytes.buffer);
  assert.equal(bytes[0], 2);
  const size = Number(view.getBigUint64(1));
  const p = 9 + size;
  assert.equal(bytes[p], 1);
  assert.equal(view.getBigUint64(p + 1), 2n); // two entries
  const e0 = Number(view.getBigUint64(p + 9));
  const e1 = Number(view.getBigUint64(p + 17 + e0));
  assert.equal(view.getBigUint64(p + 25 + e0 + e1), 12n); // the commit index
  assert.equal(bytes.length, p + 33 + e0 + e1);
});

Deno.test("both encodings survive arbitrary chunking (property)", () => {
  const msgs = leaderTraffic();
  const others = Array.from({ length: 12 }, (_, i) =>
    message(BIG, FOLLOWER, i + 1, {
      type: i % 2 ? MessageType.MsgHeartbeat : MessageType.MsgVote,
      context: new Uint8Array(i % 4),
    }));
  const cases = [
    {
      bytes: encodeAll(new MsgAppV2Encoder(), msgs),
      msgs,
      reader: () => msgAppV2Reader(FOLLOWER, LEADER),
    },
    {
      bytes: encodeAll(messageEncoder, [...others, linkHeartbeat()]),
      msgs: [...others, linkHeartbeat()],
      reader: () => messageReader(),
    },
  ];
  for (const c of cases) {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: c.bytes.length }), { maxLength: 30 }),
        (cuts) => {
          assert.deepEqual(decodeCut(new StreamDecoder(c.reader()), c.bytes, cuts), c.msgs);
        },
      ),
    );
  }
});

Deno.test("a malformed stream is refused", () => {
  assert.throws(
    () => new StreamDecoder(msgAppV2Reader(1n, 2n)).push(new Uint8Array([7])),
    /failed to parse type 7 in msgappv2 stream/,
  );
  const huge = new Uint8Array(8);
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n);
  assert.throws(() => new StreamDecoder(messageReader(1 << 20)).push(huge), /limit exceeded/);
});

Deno.test("chunked bodies: any split, trailers, and the end", () => {
  const data = [patternBytes(10), patternBytes(70_000, 2), patternBytes(1, 3)];
  const body = new Uint8Array([
    ...data.flatMap((d) => [...encodeChunk(d)]),
    ...LAST_CHUNK,
  ]);
  for (const cut of [0, 1, 3, 4, 5, 12, 13, 14, 100, body.length - 3, body.length]) {
    const d = new ChunkedDecoder();
    const out = [...d.push(body.subarray(0, cut)), ...d.push(body.subarray(cut))];
    assert.deepEqual(
      new Uint8Array(out.flatMap((p) => [...p])),
      new Uint8Array(data.flatMap((p) => [...p])),
    );
    assert.ok(d.done);
  }
  const withTrailer = new TextEncoder().encode("3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n");
  const d = new ChunkedDecoder();
  assert.deepEqual(new TextDecoder().decode(d.push(withTrailer)[0]), "abc");
  assert.ok(d.done);
  assert.throws(() => new ChunkedDecoder().push(new TextEncoder().encode("zz\r\n")), /malformed/);
  assert.throws(
    () => new ChunkedDecoder().push(new TextEncoder().encode("3\r\nabcXY")),
    /malformed/,
  );
});

Deno.test("snapshot upload: the message frame, then the database, read as it comes", async () => {
  const m = message(1n, 2n, 0, {
    type: MessageType.MsgSnap,
    snapshot: {
      metadata: { index: 42, term: 3, confState: { voters: [1n, 2n, BIG], learners: [] } },
      data: new TextEncoder().encode("the v2 store"),
    },
  });
  const db = patternBytes(300_000);
  const head = encodeMessageFrame(m);
  const body = new Uint8Array([...head, ...db]);
  async function* pieces(size: number) {
    for (let off = 0; off < body.length; off += size) yield body.subarray(off, off + size);
  }
  for (const size of [1, 7, head.length, 65_536]) {
    const { message: got, rest } = await readMessageFrom(pieces(size), 1 << 20);
    assert.deepEqual(got, m);
    const parts: number[] = [];
    for await (const p of rest) parts.push(...p);
    assert.deepEqual(new Uint8Array(parts), db);
  }
  async function* just(b: Uint8Array) {
    if (b.length > 0) yield b;
  }
  await assert.rejects(readMessageFrom(just(new Uint8Array(0)), 100), /^Error: EOF$/);
  await assert.rejects(readMessageFrom(just(head.subarray(0, 5)), 100), /unexpected EOF/);
  await assert.rejects(
    readMessageFrom(just(head.subarray(0, head.length - 1)), 100),
    /unexpected EOF/,
  );
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
