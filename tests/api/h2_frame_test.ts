import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CONNECTION_PREFACE,
  type DataFrame,
  decodeFrame,
  encodeFrame,
  ErrorCode,
  flowControlledLength,
  type Frame,
  FrameParser,
  FrameType,
  H2Error,
} from "../../src/h2/mod.ts";

const id = fc.integer({ min: 1, max: 0x7fffffff });
const bytes = (max = 64) => fc.uint8Array({ maxLength: max });
const pad = fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined });
const priority = fc.record({
  exclusive: fc.boolean(),
  dependency: fc.integer({ min: 0, max: 0x7fffffff }),
  weight: fc.integer({ min: 1, max: 256 }),
});

function withPad<T extends object>(f: T, padLength: number | undefined): T {
  return padLength === undefined ? f : { ...f, padLength };
}

/** Every frame type with every flag combination the codec carries. */
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ streamId: id, endStream: fc.boolean(), data: bytes(), pad }).map((
    { pad: p, ...r },
  ) => withPad({ type: FrameType.DATA, ...r }, p)),
  fc.record({
    streamId: id,
    endStream: fc.boolean(),
    endHeaders: fc.boolean(),
    headerBlock: bytes(),
    prio: fc.option(priority, { nil: undefined }),
    pad,
  }).map(({ pad: p, prio, ...r }) => {
    const f = { type: FrameType.HEADERS, ...r };
    return withPad(prio && prio.dependency !== r.streamId ? { ...f, priority: prio } : f, p);
  }),
  fc.record({ streamId: id, priority }).filter((r) => r.priority.dependency !== r.streamId)
    .map((r) => ({ type: FrameType.PRIORITY, ...r })),
  fc.record({ streamId: id, errorCode: fc.nat() }).map((r) => ({
    type: FrameType.RST_STREAM,
    ...r,
    errorCode: r.errorCode >>> 0,
  })),
  fc.oneof(
    fc.constant({ type: FrameType.SETTINGS, ack: true, settings: [] }),
    fc.array(
      fc.oneof(
        fc.tuple(fc.constant(1), fc.nat()),
        fc.tuple(fc.constant(2), fc.integer({ min: 0, max: 1 })),
        fc.tuple(fc.constant(3), fc.nat()),
        fc.tuple(fc.constant(4), fc.integer({ min: 0, max: 0x7fffffff })),
        fc.tuple(fc.constant(5), fc.integer({ min: 16384, max: 0xffffff })),
        fc.tuple(fc.constant(6), fc.nat()),
        fc.tuple(fc.integer({ min: 7, max: 0xffff }), fc.nat()),
      ),
      { maxLength: 8 },
    ).map((settings) => ({ type: FrameType.SETTINGS, ack: false, settings })),
  ),
  fc.record({
    streamId: id,
    endHeaders: fc.boolean(),
    promisedStreamId: id,
    headerBlock: bytes(),
    pad,
  }).map(({ pad: p, ...r }) => withPad({ type: FrameType.PUSH_PROMISE, ...r }, p)),
  fc.record({ ack: fc.boolean(), opaqueData: fc.uint8Array({ minLength: 8, maxLength: 8 }) })
    .map((r) => ({ type: FrameType.PING, ...r })),
  fc.record({
    lastStreamId: fc.integer({ min: 0, max: 0x7fffffff }),
    errorCode: fc.nat(),
    debugData: bytes(),
  })
    .map((r) => ({ type: FrameType.GOAWAY, ...r })),
  fc.record({ streamId: fc.integer({ min: 0, max: 0x7fffffff }), increment: id })
    .map((r) => ({ type: FrameType.WINDOW_UPDATE, ...r })),
  fc.record({ streamId: id, endHeaders: fc.boolean(), headerBlock: bytes() })
    .map((r) => ({ type: FrameType.CONTINUATION, ...r })),
  fc.record({
    frameType: fc.integer({ min: 10, max: 255 }),
    flags: fc.integer({ min: 0, max: 255 }),
    streamId: fc.integer({ min: 0, max: 0x7fffffff }),
    payload: bytes(),
  }).map((r) => ({ type: FrameType.UNKNOWN, ...r })),
) as fc.Arbitrary<Frame>;

/** Frames decoded from bytes hold views; compare as plain arrays. */
function plain(f: unknown): unknown {
  return JSON.parse(JSON.stringify(f, (_k, v) => v instanceof Uint8Array ? [...v] : v));
}

function parseAll(bytes: Uint8Array, cuts: number[] = []): Frame[] {
  const p = new FrameParser({ maxFrameSize: 0xffffff });
  const out: Frame[] = [];
  let prev = 0;
  for (const c of [...cuts.filter((c) => c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    p.push(bytes.subarray(prev, c), (f) => out.push(f), (e) => {
      throw e;
    });
    prev = c;
  }
  return out;
}

Deno.test("frames round-trip through encode and the parser, however the bytes are split", () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(400)),
      (frames, cuts) => {
        const parts = frames.map(encodeFrame);
        const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          all.set(p, o);
          o += p.length;
        }
        assert.deepEqual(plain(parseAll(all, cuts)), plain(frames));
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("padded DATA: wire layout and flow-controlled length", () => {
  const bytes = encodeFrame({
    type: FrameType.DATA,
    streamId: 3,
    endStream: true,
    data: new Uint8Array([1, 2]),
    padLength: 2,
  });
  assert.deepEqual([...bytes], [0, 0, 5, 0, 0x09, 0, 0, 0, 3, 2, 1, 2, 0, 0]);
  const f = decodeFrame(FrameType.DATA, 0x09, 3, bytes.subarray(9));
  assert.equal(f.type, FrameType.DATA);
  assert.equal(flowControlledLength(f as DataFrame), 5);
});

function expectError(
  type: number,
  flags: number,
  streamId: number,
  payload: number[],
  code: number,
  errStream = 0,
) {
  assert.throws(() => decodeFrame(type, flags, streamId, new Uint8Array(payload)), (e) => {
    assert.ok(e instanceof H2Error, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.streamId, errStream, e.message);
    return true;
  });
}

Deno.test("decoder rejects what RFC 9113 forbids, with the right code and scope", () => {
  const { PROTOCOL_ERROR, FRAME_SIZE_ERROR, FLOW_CONTROL_ERROR } = ErrorCode;
  expectError(FrameType.DATA, 0, 0, [1], PROTOCOL_ERROR);
  expectError(FrameType.DATA, 0x8, 1, [3, 1, 2], PROTOCOL_ERROR); // pad length >= payload
  expectError(FrameType.DATA, 0x8, 1, [], FRAME_SIZE_ERROR);
  expectError(FrameType.HEADERS, 0, 0, [], PROTOCOL_ERROR);
  expectError(FrameType.HEADERS, 0x20, 1, [0, 0, 0], FRAME_SIZE_ERROR);
  expectError(FrameType.PRIORITY, 0, 1, [0, 0, 0, 0], FRAME_SIZE_ERROR, 1);
  expectError(FrameType.PRIORITY, 0, 5, [0, 0, 0, 5, 16], PROTOCOL_ERROR, 5);
  expectError(FrameType.RST_STREAM, 0, 1, [0, 0, 0], FRAME_SIZE_ERROR);
  expectError(FrameType.RST_STREAM, 0, 0, [0, 0, 0, 0], PROTOCOL_ERROR);
  expectError(FrameType.SETTINGS, 0, 1, [], PROTOCOL_ERROR);
  expectError(FrameType.SETTINGS, 1, 0, [0, 1, 0, 0, 0, 0], FRAME_SIZE_ERROR);
  expectError(FrameType.SETTINGS, 0, 0, [0, 1, 0, 0, 0], FRAME_SIZE_ERROR);
  expectError(FrameType.SETTINGS, 0, 0, [0, 2, 0, 0, 0, 2], PROTOCOL_ERROR);
  expectError(FrameType.SETTINGS, 0, 0, [0, 4, 0x80, 0, 0, 0], FLOW_CONTROL_ERROR);
  expectError(FrameType.SETTINGS, 0, 0, [0, 5, 0, 0, 0x3f, 0xff], PROTOCOL_ERROR);
  expectError(FrameType.SETTINGS, 0, 0, [0, 5, 1, 0, 0, 0], PROTOCOL_ERROR);
  expectError(FrameType.PUSH_PROMISE, 0, 1, [0, 0], FRAME_SIZE_ERROR);
  expectError(FrameType.PING, 0, 0, [1, 2, 3], FRAME_SIZE_ERROR);
  expectError(FrameType.PING, 0, 1, [1, 2, 3, 4, 5, 6, 7, 8], PROTOCOL_ERROR);
  expectError(FrameType.GOAWAY, 0, 0, [0, 0, 0, 0], FRAME_SIZE_ERROR);
  expectError(FrameType.GOAWAY, 0, 3, [0, 0, 0, 0, 0, 0, 0, 0], PROTOCOL_ERROR);
  expectError(FrameType.WINDOW_UPDATE, 0, 0, [0, 0, 0, 0], PROTOCOL_ERROR);
  expectError(FrameType.WINDOW_UPDATE, 0, 7, [0, 0, 0, 0], PROTOCOL_ERROR, 7);
  expectError(FrameType.WINDOW_UPDATE, 0, 7, [0, 0, 1], FRAME_SIZE_ERROR);
  expectError(FrameType.CONTINUATION, 0, 0, [], PROTOCOL_ERROR);
});

Deno.test("reserved bits are ignored and unknown flags dropped", () => {
  const f = decodeFrame(FrameType.WINDOW_UPDATE, 0xff, 0, new Uint8Array([0x80, 0, 0, 1]));
  assert.deepEqual(f, { type: FrameType.WINDOW_UPDATE, streamId: 0, increment: 1 });
  const d = decodeFrame(FrameType.DATA, 0xf6, 1, new Uint8Array([9]));
  assert.deepEqual(plain(d), { type: 0, streamId: 1, endStream: false, data: [9] });
});

Deno.test("parser: oversize frame is a FRAME_SIZE_ERROR; stream errors do not stop parsing", () => {
  const p = new FrameParser();
  assert.throws(
    () => p.push(new Uint8Array([0, 0x40, 1, 0, 0, 0, 0, 0, 1]), () => {}, () => {}),
    (e) => e instanceof H2Error && e.code === ErrorCode.FRAME_SIZE_ERROR,
  );
  const bad = encodeFrame({ type: FrameType.WINDOW_UPDATE, streamId: 3, increment: 1 });
  bad[12] = 0; // increment 0 on a stream: a stream error
  const ping = encodeFrame({ type: FrameType.PING, ack: false, opaqueData: new Uint8Array(8) });
  const frames: Frame[] = [];
  const errors: H2Error[] = [];
  new FrameParser().push(
    new Uint8Array([...bad, ...ping]),
    (f) => frames.push(f),
    (e) => errors.push(e),
  );
  assert.equal(errors.length, 1);
  assert.equal(errors[0].streamId, 3);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].type, FrameType.PING);
});

Deno.test("parser checks the client preface when asked, also across chunks", () => {
  const settings = encodeFrame({ type: FrameType.SETTINGS, ack: false, settings: [] });
  const stream = new Uint8Array([...CONNECTION_PREFACE, ...settings]);
  const p = new FrameParser({ expectPreface: true });
  const frames: Frame[] = [];
  for (const part of [stream.subarray(0, 5), stream.subarray(5, 30), stream.subarray(30)]) {
    p.push(part, (f) => frames.push(f), (e) => {
      throw e;
    });
  }
  assert.equal(frames.length, 1);
  const bad = new Uint8Array(CONNECTION_PREFACE);
  bad[3] = 0x41;
  assert.throws(
    () => new FrameParser({ expectPreface: true }).push(bad, () => {}, () => {}),
    (e) => e instanceof H2Error && e.code === ErrorCode.PROTOCOL_ERROR,
  );
});
