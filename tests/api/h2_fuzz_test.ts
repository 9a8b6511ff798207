// Malformed input must end in an H2Error (a clean protocol error), never another exception.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  encodeFrame,
  type Frame,
  FrameParser,
  FrameType,
  H2Error,
  HpackDecoder,
  HpackEncoder,
} from "../../src/h2/mod.ts";

function onlyProtocolErrors(fn: () => void) {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof H2Error)) throw e;
  }
}

/** A frame header (9 bytes) with a small declared length, then that many random bytes. */
const frameish = fc.record({
  type: fc.integer({ min: 0, max: 12 }),
  flags: fc.integer({ min: 0, max: 255 }),
  streamId: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 }), fc.nat()),
  payload: fc.uint8Array({ maxLength: 40 }),
  lie: fc.integer({ min: -3, max: 3 }),
}).map(({ type, flags, streamId, payload, lie }) => {
  const len = Math.max(0, payload.length + lie);
  return new Uint8Array([
    len >>> 16,
    len >>> 8,
    len,
    type,
    flags,
    streamId >>> 24,
    streamId >>> 16,
    streamId >>> 8,
    streamId,
    ...payload,
  ]);
});

const stream = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.array(frameish, { maxLength: 8 }).map((parts) => new Uint8Array(parts.flatMap((p) => [...p]))),
);

Deno.test("fuzz: the frame parser only ever throws H2Error", () => {
  fc.assert(
    fc.property(stream, fc.array(fc.nat(300)), fc.boolean(), (bytes, cuts, preface) => {
      const p = new FrameParser({ expectPreface: preface });
      const seen: Frame[] = [];
      onlyProtocolErrors(() => {
        let prev = 0;
        for (
          const c of [...cuts.filter((c) => c < bytes.length).sort((a, b) => a - b), bytes.length]
        ) {
          p.push(bytes.subarray(prev, c), (f) => seen.push(f), (e) => assert.ok(e.streamId > 0));
          prev = c;
        }
      });
      for (const f of seen) encodeFrame(f); // whatever decoded can be re-encoded
    }),
    { numRuns: 3000 },
  );
});

const headerList = fc.array(
  fc.tuple(
    fc.stringMatching(/^[a-z:][a-z-]{0,10}$/),
    fc.string({ maxLength: 30 }).map((s) => s.replace(/[^\x20-\x7e]/g, "x")),
  ),
  { maxLength: 8 },
);

Deno.test("fuzz: the HPACK decoder only ever throws H2Error, also on mutated valid blocks", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }).map((b) => ({ raw: b })),
          fc.record({
            headers: headerList,
            flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
          }),
        ),
        { minLength: 1, maxLength: 6 },
      ),
      fc.constantFrom(0, 100, 4096),
      (blocks, limit) => {
        const enc = new HpackEncoder();
        const dec = new HpackDecoder({ maxTableSize: limit, maxHeaderListSize: 500 });
        for (const b of blocks) {
          let block: Uint8Array;
          if ("raw" in b) block = b.raw;
          else {
            block = enc.encode(b.headers);
            for (const [at, v] of b.flips) if (block.length) block[at % block.length] ^= v;
          }
          let failed = false;
          onlyProtocolErrors(() => {
            try {
              dec.decode(block);
            } catch (e) {
              failed = true;
              throw e;
            }
          });
          if (failed) return; // a connection would be closed here; its state no longer matters
        }
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("fuzz: valid header blocks split over HEADERS/CONTINUATION reassemble", () => {
  fc.assert(
    fc.property(headerList, fc.integer({ min: 1, max: 16 }), (headers, size) => {
      const block = new HpackEncoder().encode(headers);
      const frames: Frame[] = [];
      for (let i = 0; i === 0 || i < block.length; i += size) {
        const part = block.subarray(i, i + size);
        const endHeaders = i + size >= block.length;
        frames.push(
          i === 0
            ? {
              type: FrameType.HEADERS,
              streamId: 1,
              endStream: true,
              endHeaders,
              headerBlock: part,
            }
            : { type: FrameType.CONTINUATION, streamId: 1, endHeaders, headerBlock: part },
        );
      }
      const chunks: Uint8Array[] = [];
      const p = new FrameParser();
      for (const f of frames) {
        p.push(
          encodeFrame(f),
          (g) => chunks.push((g as { headerBlock: Uint8Array }).headerBlock),
          () => {},
        );
      }
      const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        joined.set(c, o);
        o += c.length;
      }
      assert.deepEqual(new HpackDecoder().decode(joined), headers);
    }),
    { numRuns: 300 },
  );
});
