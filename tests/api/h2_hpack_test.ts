import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import hpack from "hpack.js";
import {
  ByteBuffer,
  ErrorCode,
  H2Error,
  type HeaderList,
  HeaderListSizeError,
  HpackDecoder,
  HpackEncoder,
  huffmanDecode,
  huffmanEncode,
} from "../../src/h2/mod.ts";

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// RFC 7541 Appendix C.3 (plain strings) and C.4 (Huffman): three requests on one connection.
const requests: HeaderList[] = [
  [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"]],
  [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"], [
    "cache-control",
    "no-cache",
  ]],
  [[":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [
    ":authority",
    "www.example.com",
  ], ["custom-key", "custom-value"]],
];
const c3 = [
  "828684410f7777772e6578616d706c652e636f6d",
  "828684be58086e6f2d6361636865",
  "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
];
const c4 = [
  "828684418cf1e3c2e5f23a6ba0ab90f4ff",
  "828684be5886a8eb10649cbf",
  "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
];

Deno.test("RFC 7541 C.3/C.4: encoder output and decoder input match the RFC bytes", () => {
  for (const [huffman, expected] of [[false, c3], [true, c4]] as const) {
    const enc = new HpackEncoder({ huffman });
    const dec = new HpackDecoder();
    requests.forEach((headers, i) => {
      assert.equal(toHex(enc.encode(headers)), expected[i], `huffman=${huffman} request ${i + 1}`);
      assert.deepEqual(dec.decode(hex(expected[i])), headers);
    });
    assert.deepEqual(dec.tableSize, { maxSize: 4096, size: 164, count: 3 });
  }
});

// Oracle helpers: hpack.js's stream-based compressor and decompressor.
type Oracle = { write(x: unknown): void; read(): unknown; execute?(): void };
function theirEncode(comp: Oracle, headers: HeaderList, huffman = true): Uint8Array {
  comp.write(headers.map(([name, value]) => ({ name, value, huffman })));
  const parts: Buffer[] = [];
  for (let c; (c = comp.read() as Buffer | null);) parts.push(c);
  return new Uint8Array(Buffer.concat(parts));
}
function theirDecode(dec: Oracle, block: Uint8Array): HeaderList {
  dec.write(Buffer.from(block));
  dec.execute!();
  const out: HeaderList = [];
  for (let h; (h = dec.read() as { name: string; value: string } | null);) {
    out.push([h.name, h.value]);
  }
  return out;
}

const latin1 = (max: number) =>
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: max }).map((a) =>
    String.fromCharCode(...a)
  );
const headerName = fc.oneof(
  fc.constantFrom(
    ":path",
    ":status",
    "content-type",
    "grpc-status",
    "grpc-message",
    "te",
    "user-agent",
  ),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
);
const header = fc.tuple(headerName, fc.oneof(latin1(40), fc.constantFrom("", "200", "/a/b", "0")));
const blocks = fc.array(fc.array(header, { maxLength: 12 }), { minLength: 1, maxLength: 8 });

Deno.test("ours -> hpack.js: sequences of blocks decode identically, small tables evict", () => {
  fc.assert(
    fc.property(blocks, fc.constantFrom(0, 64, 256, 4096), fc.boolean(), (seq, size, huffman) => {
      const enc = new HpackEncoder({ maxTableSize: size, huffman, neverIndex: new Set(["token"]) });
      const dec = hpack.decompressor.create({ table: { maxSize: 4096 } }) as Oracle;
      for (const headers of seq) assert.deepEqual(theirDecode(dec, enc.encode(headers)), headers);
    }),
    { numRuns: 300 },
  );
});

Deno.test("hpack.js -> ours: sequences of blocks decode identically, small tables evict", () => {
  fc.assert(
    fc.property(blocks, fc.constantFrom(64, 256, 4096), fc.boolean(), (seq, size, huffman) => {
      const comp = hpack.compressor.create({ table: { maxSize: size } }) as Oracle & {
        updateTableSize(n: number): void;
      };
      // a limit below the initial 4096 must be signalled (RFC 7541 §4.2); hpack.js emits it here
      if (size < 4096) comp.updateTableSize(size);
      const dec = new HpackDecoder({ maxTableSize: size });
      for (const headers of seq) {
        assert.deepEqual(dec.decode(theirEncode(comp, headers, huffman)), headers);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("table size updates: peer limit changes between blocks are signalled and followed", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.array(header, { maxLength: 6 }),
          fc.array(fc.constantFrom(0, 100, 300, 4096), { maxLength: 3 }),
        ),
      ),
      (steps) => {
        const enc = new HpackEncoder();
        const ours = new HpackDecoder();
        const theirs = hpack.decompressor.create({ table: { maxSize: 4096 } }) as Oracle;
        for (const [headers, resizes] of steps) {
          for (const r of resizes) enc.setPeerMaxTableSize(r);
          const block = enc.encode(headers);
          assert.deepEqual(ours.decode(block), headers);
          assert.deepEqual(theirDecode(theirs, block), headers);
        }
      },
    ),
    { numRuns: 200 },
  );
  // shrink to 0 then grow back: two updates (min, then final) open the next block
  const enc = new HpackEncoder();
  enc.encode([["x-a", "1"]]);
  enc.setPeerMaxTableSize(0);
  enc.setPeerMaxTableSize(4096);
  const block = enc.encode([["x-a", "1"]]);
  assert.deepEqual([...block.subarray(0, 4)], [0x20, 0x3f, 0xe1, 0x1f]);
});

Deno.test("decoder: lowering our limit requires a size update at the next block start", () => {
  const dec = new HpackDecoder();
  dec.decode(hex("400178017a")); // x: z, indexed
  dec.setMaxTableSize(100);
  assert.throws(() => dec.decode(hex("be")), compression);
  const dec2 = new HpackDecoder();
  dec2.setMaxTableSize(100);
  assert.deepEqual(dec2.decode(hex("3f4582")), [[":method", "GET"]]); // update to 100, then :method GET
  assert.throws(() => new HpackDecoder({ maxTableSize: 100 }).decode(hex("3f46")), compression); // 101 > limit
});

function compression(e: unknown) {
  assert.ok(e instanceof H2Error, String(e));
  assert.equal(e.code, ErrorCode.COMPRESSION_ERROR);
  return true;
}

Deno.test("decoder rejects malformed blocks with COMPRESSION_ERROR", () => {
  const bad = [
    "80", // index 0
    "be", // dynamic index 62 on an empty table
    "ff", // truncated integer
    "ffffffffffff0f", // integer overflow
    "4005", // truncated string
    "0003616263", // literal without indexing, name length 3 but no value
    "82203f", // size update after a header field
    "3fe21f", // size update 4097 above the limit
    "0181ff", // Huffman value holding 8 bits of padding (EOS prefix) only
    "01811e", // Huffman "a" then padding that is not all ones
    "0184ffffffff", // Huffman EOS symbol
  ];
  for (const b of bad) assert.throws(() => new HpackDecoder().decode(hex(b)), compression, b);
});

Deno.test("oversized header list: HeaderListSizeError, table still in sync", () => {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder({ maxHeaderListSize: 200 });
  const big: HeaderList = [["x-big", "v".repeat(100)], ["x-big2", "w".repeat(100)]];
  assert.throws(() => dec.decode(enc.encode(big)), (e) => e instanceof HeaderListSizeError);
  // the next block refers to the entries the failed block added: still decodable
  assert.deepEqual(dec.decode(enc.encode([big[0]])), [big[0]]);
});

Deno.test("HPACK bomb: one large entry referenced many times stays within the list limit", () => {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder({ maxHeaderListSize: 64 * 1024 });
  const first = enc.encode([["x-bomb", "b".repeat(4000)]]);
  dec.decode(first);
  const refs = new Uint8Array(16384).fill(0xbe); // 16k references to that entry
  assert.throws(() => dec.decode(refs), (e) => e instanceof HeaderListSizeError);
});

Deno.test("Huffman: round trip of any octets, and agreement with hpack.js", () => {
  fc.assert(
    fc.property(latin1(300), (s) => {
      const out = new ByteBuffer(16);
      huffmanEncode(s, out);
      const b = out.take();
      assert.equal(huffmanDecode(b, 0, b.length), s);
      const comp = hpack.compressor.create({ table: { maxSize: 0 } }) as Oracle;
      const theirs = theirEncode(comp, [["x", s]], true);
      const ours = new HpackEncoder({ maxTableSize: 0 });
      const dec = new HpackDecoder();
      assert.deepEqual(dec.decode(theirs), [["x", s]]);
      assert.deepEqual(
        theirDecode(
          hpack.decompressor.create({ table: { maxSize: 4096 } }) as Oracle,
          ours.encode([["x", s]]),
        ),
        [["x", s]],
      );
    }),
    { numRuns: 300 },
  );
});

Deno.test("sensitive headers are never indexed", () => {
  const enc = new HpackEncoder({ huffman: false });
  const b = enc.encode([["authorization", "secret"]]);
  assert.equal(b[0] & 0xf0, 0x10); // literal never indexed
  const dec = new HpackDecoder();
  dec.decode(b);
  assert.equal(dec.tableSize.count, 0);
});

Deno.test("frozen header lists: cached blocks are replayed only while the table is unchanged", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant("frozen"), fc.array(header, { maxLength: 3 })), {
        maxLength: 12,
      }),
      fc.constantFrom(64, 4096),
      (steps, size) => {
        const frozen = Object.freeze([
          Object.freeze([":path", "/etcdserverpb.KV/Range"]),
          Object.freeze(["x-frozen", "v"]),
        ]) as HeaderList;
        const enc = new HpackEncoder({ maxTableSize: size });
        const dec = new HpackDecoder();
        const theirs = hpack.decompressor.create({ table: { maxSize: 4096 } }) as Oracle;
        for (const step of [...steps, "frozen", "frozen"] as const) {
          const headers = step === "frozen" ? frozen : step;
          const block = enc.encode(headers);
          assert.deepEqual(dec.decode(block), headers);
          assert.deepEqual(theirDecode(theirs, block), headers);
        }
      },
    ),
    { numRuns: 200 },
  );
});
