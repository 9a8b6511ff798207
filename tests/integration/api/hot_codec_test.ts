// The specialised request-path codecs against the reflective codec, which walks the same schema:
// identical bytes, identical decoded objects, and the same failures on malformed input.

import assert from "node:assert/strict";
import fc from "fast-check";
import { assertEquals, messageArb, normalize } from "../../helpers/codec.ts";
import { compileSchema, makeCodec, type MessageCodec } from "../../../src/pb/codec.ts";
import { schema } from "../../../src/pb/generated.ts";
import { hotCodecs } from "../../../src/pb/hot.generated.ts";
import { messages, ProtoDecodeError } from "../../../src/pb/mod.ts";
import { hotSource } from "../../../scripts/gen_proto.ts";
import { HOT_ROOTS, hotMessages } from "../../../scripts/gen_proto_hot.ts";

// deno-lint-ignore no-explicit-any
type Codec = MessageCodec<any>;

const compiled = compileSchema(schema);
const reflective = (name: string): Codec => makeCodec(compiled.get(name)!);
const hot = hotCodecs as unknown as Record<string, Codec>;
const names = Object.keys(hot);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => new Uint8Array(s.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);

/** Decodes with both codecs: both fail with ProtoDecodeError or both give the same object. */
function sameDecode(name: string, bytes: Uint8Array): void {
  const outcome = (c: Codec) => {
    try {
      return { ok: c.decode(bytes) };
    } catch (err) {
      return { err };
    }
  };
  const a = outcome(reflective(name));
  const b = outcome(hot[name]);
  const label = `${name} ${hex(bytes)}`;
  if (a.err || b.err) {
    assert.ok(a.err instanceof ProtoDecodeError, `${label}: reflective gave ${a.err ?? "a value"}`);
    assert.ok(
      b.err instanceof ProtoDecodeError,
      `${label}: specialised gave ${b.err ?? "a value"}`,
    );
    assertEquals(b.err.message, a.err.message, label);
  } else assertEquals(b.ok, a.ok, label);
}

Deno.test("hot codecs: regenerating from the schema yields the committed hot.generated.ts", async () => {
  const committed = await Deno.readTextFile(
    new URL("../../../src/pb/hot.generated.ts", import.meta.url),
  );
  assert.equal(await hotSource(schema), committed);
});

Deno.test("hot codecs: cover the request-path messages and are what messages[] serves", () => {
  assert.deepEqual(names, hotMessages(schema));
  for (const root of [...HOT_ROOTS, "mvccpb.KeyValue", "mvccpb.Event", "etcdserverpb.Compare"]) {
    assert.ok(names.includes(root), root);
  }
  for (const name of names) {
    assert.equal((messages as unknown as Record<string, Codec>)[name], hot[name], name);
  }
  assert.notEqual(messages["etcdserverpb.MemberListRequest"], undefined);
});

Deno.test("hot codecs: same bytes and same objects as the reflective codec, both directions", () => {
  for (const name of names) {
    const slow = reflective(name);
    const fast = hot[name];
    fc.assert(
      fc.property(messageArb(name, 3), (msg) => {
        const expected = normalize(name, msg);
        const bytes = fast.encode(msg);
        const reference = slow.encode(msg);
        assert.equal(hex(bytes), hex(reference), name);
        assertEquals(slow.decode(bytes), expected, `${name} (reflective decode)`);
        assertEquals(fast.decode(reference), expected, `${name} (specialised decode)`);
        // Decoded objects encode back to the same bytes.
        assert.equal(hex(fast.encode(expected)), hex(reference), `${name} (re-encode)`);
      }),
      { numRuns: 150 },
    );
    assertEquals(fast.create(), slow.create(), `${name} create`);
  }
});

Deno.test("hot codecs: encodeField is the field's tag, length and encoding, room left after", () => {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
    return [...out, n];
  };
  for (const name of names) {
    const fast = hot[name];
    fc.assert(
      fc.property(
        messageArb(name, 3),
        fc.integer({ min: 1, max: 1204 }),
        fc.nat(40),
        (msg, no, after) => {
          const body = fast.encode(msg);
          const want = [...varint((no << 3) | 2), ...varint(body.length), ...body];
          const got = fast.encodeField!(msg, no, after);
          assert.equal(got.length, want.length + after, name);
          assert.equal(hex(got.subarray(0, want.length)), hex(new Uint8Array(want)), name);
        },
      ),
      { numRuns: 30 },
    );
  }
});

Deno.test("hot codecs: damaged encodings fail, or decode, exactly as the reflective codec", () => {
  for (const name of names) {
    const damaged = messageArb(name, 2).chain((msg) => {
      const bytes = reflective(name).encode(msg);
      return fc.oneof(
        // Truncated anywhere.
        fc.nat({ max: bytes.length }).map((n) => bytes.slice(0, n)),
        // A byte overwritten (bad wire types, lengths, varints, tags).
        fc.tuple(fc.nat({ max: Math.max(0, bytes.length - 1) }), fc.integer({ min: 0, max: 255 }))
          .map(([i, v]) => {
            const b = bytes.slice();
            if (b.length) b[i] = v;
            return b;
          }),
        // Random bytes spliced in.
        fc.tuple(fc.nat({ max: bytes.length }), fc.uint8Array({ minLength: 1, maxLength: 6 }))
          .map(([i, ins]) =>
            new Uint8Array([...bytes.subarray(0, i), ...ins, ...bytes.subarray(i)])
          ),
      );
    });
    fc.assert(fc.property(damaged, (bytes) => sameDecode(name, bytes)), { numRuns: 150 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (b) => sameDecode(name, b)), {
      numRuns: 40,
    });
  }
});

Deno.test("hot codecs: malformed input raises ProtoDecodeError like the reflective codec", () => {
  const cases: [string, string][] = [
    ["etcdserverpb.PutRequest", "0a05666f"], // key longer than the input
    ["etcdserverpb.PutRequest", "18ff"], // truncated varint
    ["etcdserverpb.PutRequest", "0e"], // wire type 6
    ["etcdserverpb.PutRequest", "0f00"], // wire type 7
    ["etcdserverpb.PutRequest", "0c"], // a lone end-group
    ["etcdserverpb.PutRequest", "0000"], // tag 0
    ["etcdserverpb.PutRequest", "18ffffffffffffffffffff01"], // varint of eleven bytes
    ["etcdserverpb.PutRequest", "0b1001"], // group never closed
    ["etcdserverpb.PutRequest", "0b14"], // group closed by another field number
    ["etcdserverpb.RangeResponse", "12020a05"], // kv's key runs past the kv
    ["etcdserverpb.RangeResponse", "0a03100218"], // header length cuts a field
    ["etcdserverpb.WatchCreateRequest", "2a0380"], // packed filters with a cut varint
    ["etcdserverpb.WatchCreateRequest", "2a018001"], // packed varint crosses its length
    ["etcdserverpb.TxnRequest", "0a02"], // compare past the end
  ];
  for (const [name, h] of cases) {
    assert.throws(() => hot[name].decode(unhex(h)), ProtoDecodeError, `${name} ${h}`);
    sameDecode(name, unhex(h));
  }
});

Deno.test("hot codecs: unpacked repeated scalars, skipped unknown fields, replaced oneofs", () => {
  const wc = hot["etcdserverpb.WatchCreateRequest"];
  assert.deepEqual(wc.decode(unhex("28002801")).filters, [0, 1]);
  assert.deepEqual(wc.decode(unhex("2a0200012801")).filters, [0, 1, 1]);
  // Unknown fields of every wire type, then key "a".
  const unknown = "f80701" + "f9070000000000000000" + "fa0700" + "fd0700000000" + "fb07fc07";
  assert.deepEqual(
    hot["etcdserverpb.PutRequest"].decode(unhex(unknown + "0a0161")).key,
    unhex("61"),
  );
  // Wrong wire type for a known field: skipped.
  assert.equal(hot["etcdserverpb.PutRequest"].decode(unhex("1d00000000")).lease, 0n);
  // A later oneof member replaces an earlier one.
  const op = hot["etcdserverpb.RequestOp"].decode(unhex("0a00" + "1200"));
  assert.deepEqual(Object.keys(op), ["requestPut"]);
  for (const h of ["0a00", "1200", unknown]) sameDecode("etcdserverpb.RequestOp", unhex(h));
  // Node Buffers (whose slice shares memory) still decode to copies.
  const buf = Buffer.from(unhex("0a0161"));
  const key = hot["etcdserverpb.PutRequest"].decode(buf).key;
  buf[2] = 0x62;
  assert.equal(key[0], 0x61);
  assert.equal(key.constructor, Uint8Array);
});
