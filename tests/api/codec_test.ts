import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type MessageName,
  messages,
  ProtoDecodeError,
  RangeRequest_SortOrder,
  schema,
} from "../../src/pb/mod.ts";
import { assertEquals, messageArb, normalize } from "../helpers/codec.ts";

const te = new TextEncoder();
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));

Deno.test("codec: every message round-trips (binary)", () => {
  for (const name of Object.keys(schema.messages) as MessageName[]) {
    const codec = messages[name];
    fc.assert(
      fc.property(messageArb(name), (msg) => {
        // deno-lint-ignore no-explicit-any
        const decoded = codec.decode(codec.encode(msg as any));
        assertEquals(decoded, normalize(name, msg), name);
      }),
      { numRuns: 25 },
    );
  }
});

Deno.test("codec: decoding nothing gives every default", () => {
  assert.deepEqual(messages["mvccpb.KeyValue"].decode(new Uint8Array(0)), {
    key: new Uint8Array(0),
    createRevision: 0,
    modRevision: 0,
    version: 0,
    value: new Uint8Array(0),
    lease: 0n,
  });
  assert.deepEqual(messages["etcdserverpb.RangeResponse"].decode(new Uint8Array(0)), {
    kvs: [],
    more: false,
    count: 0,
  });
  assert.deepEqual(messages["etcdserverpb.RequestOp"].decode(new Uint8Array(0)), {});
});

Deno.test("codec: PutRequest bytes derived by hand", () => {
  const bytes = messages["etcdserverpb.PutRequest"].encode({
    key: te.encode("foo"),
    value: te.encode("bar"),
    lease: 0x1234n,
    prevKv: true,
  });
  // 0a 03 "foo" | 12 03 "bar" | 18 (lease, varint) b4 24 = 0x1234 | 20 01 (prev_kv)
  assert.equal(hex(bytes), "0a03666f6f" + "120362617" + "2" + "18b424" + "2001");
});

Deno.test("codec: known vectors for 64-bit, negative and packed fields", () => {
  const header = messages["etcdserverpb.ResponseHeader"];
  // uint64 max as a member ID: nine 0xff bytes then 0x01.
  assert.equal(hex(header.encode({ memberId: 2n ** 64n - 1n })), "10ffffffffffffffffff01");
  assert.equal(header.decode(unhex("10ffffffffffffffffff01")).memberId, 2n ** 64n - 1n);
  // Identifier fields also accept numbers.
  assert.equal(hex(header.encode({ clusterId: 300 })), "08ac02");
  // int64 -1 (watch_id of a rejected watch) is ten bytes of two's complement.
  const wr = messages["etcdserverpb.WatchResponse"];
  assert.equal(hex(wr.encode({ watchId: -1 })), "10ffffffffffffffffff01");
  assert.equal(wr.decode(unhex("10ffffffffffffffffff01")).watchId, -1);
  // TTL -1 and large revisions decode as numbers.
  const ttl = messages["etcdserverpb.LeaseTimeToLiveResponse"];
  assert.equal(ttl.decode(ttl.encode({ TTL: -1, grantedTTL: 2 ** 40 })).TTL, -1);
  assert.equal(ttl.decode(ttl.encode({ grantedTTL: 2 ** 40 })).grantedTTL, 2 ** 40);
  // Repeated enums are packed: field 5, length 2, values 0 and 1.
  const wc = messages["etcdserverpb.WatchCreateRequest"];
  assert.equal(hex(wc.encode({ filters: [0, 1] })), "2a020001");
  // ...and unpacked repeated enums are accepted too.
  assert.deepEqual(wc.decode(unhex("28002801")).filters, [0, 1]);
  // Enum values and a field past 15 (Compare.range_end = 64: two-byte tag).
  const rr = messages["etcdserverpb.RangeRequest"];
  assert.equal(
    hex(rr.encode({ sortOrder: RangeRequest_SortOrder.DESCEND, limit: 10 })),
    "180a2802",
  );
  const cmp = messages["etcdserverpb.Compare"];
  assert.equal(hex(cmp.encode({ rangeEnd: new Uint8Array([0]) })), "820401" + "00");
});

Deno.test("codec: oneof members are sent when set, even to their default", () => {
  const cmp = messages["etcdserverpb.Compare"];
  // target VERSION (0) with version 0: field 4 must still be on the wire.
  assert.equal(hex(cmp.encode({ key: te.encode("a"), version: 0 })), "1a01612000");
  const d = cmp.decode(unhex("1a01612000"));
  assert.equal(d.version, 0);
  assert.equal(d.createRevision, undefined);
  // The last member on the wire wins.
  const both = cmp.decode(unhex("2005" + "2806"));
  assert.equal(both.version, undefined);
  assert.equal(both.createRevision, 6);
  // Sub-message oneof members: an empty message is still present.
  const op = messages["etcdserverpb.RequestOp"];
  assert.equal(hex(op.encode({ requestRange: {} })), "0a00");
  assert.ok(op.decode(unhex("0a00")).requestRange);
});

Deno.test("codec: unknown fields of every wire type are skipped", () => {
  const kv = messages["mvccpb.KeyValue"];
  const known = kv.encode({ key: te.encode("k"), version: 3 });
  const unknown = unhex(
    "f807" + "96" + "01" + // field 127 varint
      "f907" + "0102030405060708" + // field 127 fixed64
      "fa07" + "03" + "616263" + // field 127 bytes
      "fd07" + "01020304" + // field 127 fixed32
      "fb07" + "0801" + "fc07", // field 127 group holding field 1
  );
  const both = new Uint8Array([...unknown, ...known]);
  assert.deepEqual(kv.decode(both), kv.decode(known));
});

Deno.test("codec: wire type mismatches are treated as unknown fields", () => {
  // key (field 1) sent as a varint: ignored, as Go's decoder does.
  assert.deepEqual(messages["mvccpb.KeyValue"].decode(unhex("0805")).key, new Uint8Array(0));
});

Deno.test("codec: malformed input throws ProtoDecodeError in etcd's words", () => {
  const kv = messages["mvccpb.KeyValue"];
  const cases: [string, string][] = [
    ["0a05616263", "unexpected EOF"],
    ["10", "unexpected EOF"],
    ["10ffffffffffffffffffff01", "proto: integer overflow"],
    ["0f", "proto: illegal wireType 7"],
    ["0000", "proto: KeyValue: illegal tag 0 (wire type 0)"],
    ["0c", "proto: KeyValue: wiretype end group for non-group"],
    ["0b14", "proto: mismatched end group"],
  ];
  for (const [bad, message] of cases) {
    assert.throws(() => kv.decode(unhex(bad)), (err) => {
      assert.ok(err instanceof ProtoDecodeError, `${bad}: ${err}`);
      assert.equal(err.message, message, bad);
      return true;
    });
  }
  // A sub-message's field may not run past the sub-message.
  assert.throws(
    () => messages["etcdserverpb.RangeResponse"].decode(unhex("12020a05" + "6162636465")),
    new ProtoDecodeError("unexpected EOF"),
  );
});

Deno.test("codec: decoded bytes are copies in plain Uint8Arrays", () => {
  const buf = Buffer.from(messages["mvccpb.KeyValue"].encode({ key: te.encode("abc") }));
  const d = messages["mvccpb.KeyValue"].decode(buf);
  buf.fill(0);
  assert.equal(Object.getPrototypeOf(d.key), Uint8Array.prototype);
  assert.deepEqual(d.key, te.encode("abc"));
});

Deno.test("codec: long strings and nested messages get the right length prefixes", () => {
  const long = "é".repeat(10_000); // 20000 UTF-8 bytes: a three-byte length
  const ar = messages["etcdserverpb.AuthenticateResponse"];
  assert.equal(ar.decode(ar.encode({ token: long })).token, long);
  const big = new Uint8Array(200_000).fill(7);
  const rr = messages["etcdserverpb.RangeResponse"];
  const d = rr.decode(rr.encode({ kvs: [{ key: big, value: big }, { key: te.encode("x") }] }));
  assert.deepEqual(d.kvs[0].value, big);
  assert.deepEqual(d.kvs[1].key, te.encode("x"));
});
