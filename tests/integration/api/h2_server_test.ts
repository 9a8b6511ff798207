// The lean HTTP/2 server behind serveClient: any :authority, large values, flow control against
// slow readers, many and limited concurrent streams, and protocol errors answered with the
// right RST_STREAM or GOAWAY while the server keeps serving. Address block 127.0.61.x.
import assert from "node:assert/strict";
import { ErrorCode, type Frame, FrameType, type HeaderList } from "../../../src/h2/mod.ts";
import { connect, unaryCall } from "../../support/h2/mod.ts";
import { messages } from "../../../src/pb/mod.ts";
import { grpcHeaders, HOST, RawClient, type Server, startLean } from "../../helpers/h2_server.ts";
import { frame } from "../../helpers/grpc.ts";
import { sleep } from "../../helpers/wait.ts";

const te = new TextEncoder();
const PUT = "/etcdserverpb.KV/Put";
const RANGE = "/etcdserverpb.KV/Range";
const WATCH = "/etcdserverpb.Watch/Watch";
const putReq = (key: string, value: Uint8Array) =>
  messages["etcdserverpb.PutRequest"].encode({ key: te.encode(key), value });
const rangeReq = (key: string) =>
  messages["etcdserverpb.RangeRequest"].encode({ key: te.encode(key) });
const watchReq = () =>
  messages["etcdserverpb.WatchRequest"].encode({ createRequest: { key: te.encode("w") } });

async function withServer(
  fn: (s: Server) => Promise<void>,
  opts: { maxConcurrentStreams?: number } = {},
) {
  const s = await startLean(opts);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

/** The server still answers a fresh connection (it neither crashed nor stalled). */
async function assertServing(port: number) {
  const conn = await connect({ host: HOST, port });
  try {
    await unaryCall(conn, PUT, putReq("alive", te.encode("yes")));
  } finally {
    conn.destroy();
  }
}

function status(block: HeaderList | undefined, name: string): string | undefined {
  return block?.find(([n]) => n === name)?.[1];
}

const isGoaway = (code: number) => (f: Frame) =>
  f.type === FrameType.GOAWAY && f.errorCode === code;

Deno.test("lean: an :authority with a scheme (etcdctl's endpoint URL) is accepted", async () => {
  await withServer(async ({ port }) => {
    for (const authority of [`http://${HOST}:${port}`, "https://example:1/x?y", ""]) {
      const conn = await connect({ host: HOST, port, authority });
      await unaryCall(conn, PUT, putReq("a", te.encode("1")));
      const res = messages["etcdserverpb.RangeResponse"].decode(
        await unaryCall(conn, RANGE, rangeReq("a")),
      );
      assert.equal(new TextDecoder().decode(res.kvs[0].value), "1");
      conn.destroy();
    }
    // The HTTP side gets such a request too.
    const c = await RawClient.connect(port);
    c.headers(1, [
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/x"],
      [":authority", `http://${HOST}:${port}`],
    ], true);
    await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1 && f.endStream);
    assert.equal(status(c.blocks.get(1)?.[0], ":status"), "200");
    c.close();
  });
});

Deno.test("lean: a 1.5 MiB value goes both ways through flow control", async () => {
  await withServer(async ({ port }) => {
    const conn = await connect({ host: HOST, port });
    const value = new Uint8Array(1536 * 1024).map((_, i) => i % 251);
    await unaryCall(conn, PUT, putReq("big", value));
    const res = messages["etcdserverpb.RangeResponse"].decode(
      await unaryCall(conn, RANGE, rangeReq("big")),
    );
    assert.deepEqual(res.kvs[0].value, value);
    conn.destroy();
  });
});

Deno.test("lean: a slow reader gets its window's worth, then the rest as it reads", async () => {
  await withServer(async ({ port }) => {
    const conn = await connect({ host: HOST, port });
    await unaryCall(conn, PUT, putReq("big", new Uint8Array(1024 * 1024)));
    conn.destroy();
    const c = await RawClient.connect(port, { settings: [[0x4, 16384]] });
    c.headers(1, grpcHeaders(RANGE), false);
    c.send({
      type: FrameType.DATA,
      streamId: 1,
      endStream: true,
      data: frame(rangeReq("big")),
    });
    await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1);
    await sleep(200);
    assert.equal(c.dataBytes(1), 16384, "no more than the stream window");
    await assertServing(port); // other connections are not held up meanwhile
    c.send({ type: FrameType.WINDOW_UPDATE, streamId: 0, increment: 4 << 20 });
    c.send({ type: FrameType.WINDOW_UPDATE, streamId: 1, increment: 4 << 20 });
    await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1 && f.endStream);
    assert.ok(c.dataBytes(1) > 1024 * 1024);
    assert.equal(status(c.blocks.get(1)?.[1], "grpc-status"), "0");
    c.close();
  });
});

Deno.test("lean: a thousand concurrent streams on one connection", async () => {
  await withServer(async ({ port }) => {
    const conn = await connect({ host: HOST, port });
    const calls = Array.from(
      { length: 1000 },
      (_, i) => unaryCall(conn, PUT, putReq(`k${i}`, te.encode(String(i)))),
    );
    assert.equal((await Promise.all(calls)).length, 1000);
    conn.destroy();
  });
});

Deno.test("lean: SETTINGS_MAX_CONCURRENT_STREAMS refuses streams beyond it", async () => {
  await withServer(async ({ port }) => {
    const c = await RawClient.connect(port);
    const settings = await c.waitFor((f) => f.type === FrameType.SETTINGS && !f.ack);
    assert.ok(settings.type === FrameType.SETTINGS);
    assert.deepEqual(settings.settings.find(([id]) => id === 0x3), [0x3, 2]);
    for (const id of [1, 3]) c.headers(id, grpcHeaders(WATCH), false);
    c.headers(5, grpcHeaders(WATCH), false);
    const refused = await c.rst(5);
    assert.ok(refused.type === FrameType.RST_STREAM);
    assert.equal(refused.errorCode, ErrorCode.REFUSED_STREAM);
    c.send({ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.CANCEL });
    c.headers(7, grpcHeaders(WATCH), false);
    c.send({ type: FrameType.DATA, streamId: 7, endStream: false, data: frame(watchReq()) });
    await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 7);
    assert.equal(status(c.blocks.get(7)?.[0], ":status"), "200");
    c.close();
  }, { maxConcurrentStreams: 2 });
});

Deno.test("lean: trailers from the client end its side; trailers without END_STREAM are refused", async () => {
  await withServer(async ({ port }) => {
    const c = await RawClient.connect(port);
    c.headers(1, grpcHeaders(PUT), false);
    c.send({
      type: FrameType.DATA,
      streamId: 1,
      endStream: false,
      data: frame(putReq("t", te.encode("v"))),
    });
    c.headers(1, [["x-trailer", "1"]], true);
    await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1 && f.endStream);
    assert.equal(status(c.blocks.get(1)?.[1], "grpc-status"), "0");
    c.headers(3, grpcHeaders(WATCH), false);
    c.headers(3, [["x-trailer", "1"]], false);
    assert.equal((await c.rst(3) as { errorCode: number }).errorCode, ErrorCode.PROTOCOL_ERROR);
    c.close();
  });
});

Deno.test("lean: GOAWAY on shutdown, with the last stream id", async () => {
  const s = await startLean();
  const c = await RawClient.connect(s.port);
  c.headers(1, grpcHeaders(WATCH), false);
  c.send({ type: FrameType.DATA, streamId: 1, endStream: false, data: frame(watchReq()) });
  await c.waitFor((f) => f.type === FrameType.DATA && f.streamId === 1);
  await s.close();
  const g = await c.goaway();
  assert.ok(g.type === FrameType.GOAWAY);
  assert.equal(g.errorCode, ErrorCode.NO_ERROR);
  assert.equal(g.lastStreamId, 1);
  await c.waitClosed();
});

Deno.test("lean: a never-ending stream and a client that never reads stall no one else", async () => {
  await withServer(async ({ port }) => {
    const conn = await connect({ host: HOST, port });
    await unaryCall(conn, PUT, putReq("big", new Uint8Array(1024 * 1024)));
    conn.destroy();
    const watcher = await RawClient.connect(port);
    watcher.headers(1, grpcHeaders(WATCH), false);
    // Huge windows, many large responses, and a socket nobody reads.
    const deaf = await RawClient.connect(port, { settings: [[0x4, 0x7fffffff]] });
    deaf.send({ type: FrameType.WINDOW_UPDATE, streamId: 0, increment: 0x7fffffff - 65535 });
    for (let i = 0; i < 40; i++) {
      const id = 2 * i + 1;
      deaf.headers(id, grpcHeaders(RANGE), false);
      deaf.send({
        type: FrameType.DATA,
        streamId: id,
        endStream: true,
        data: frame(rangeReq("big")),
      });
    }
    deaf.socket.pause();
    await sleep(300);
    const start = performance.now();
    const others = await connect({ host: HOST, port });
    for (let i = 0; i < 100; i++) await unaryCall(others, RANGE, rangeReq("alive"));
    assert.ok(performance.now() - start < 3000, "other clients are served promptly");
    others.destroy();
    watcher.close();
    deaf.close();
  });
});

Deno.test("lean: a client that opens and resets streams in a loop is told to calm down", async () => {
  await withServer(async ({ port }) => {
    const c = await RawClient.connect(port);
    // Three times the allowed burst: even a slow machine handles them faster than the refill.
    for (let id = 1; id < 2 * 3000; id += 2) {
      c.headers(id, grpcHeaders(WATCH), false);
      c.send({ type: FrameType.RST_STREAM, streamId: id, errorCode: ErrorCode.CANCEL });
    }
    const g = await c.goaway();
    assert.ok(g.type === FrameType.GOAWAY);
    assert.equal(g.errorCode, ErrorCode.ENHANCE_YOUR_CALM);
    c.close();
    await assertServing(port);
  });
});

// --- protocol errors: each on its own connection; the server keeps serving afterwards ---

function rawFrame(type: number, flags: number, streamId: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  out[0] = payload.length >>> 16;
  out[1] = payload.length >>> 8;
  out[2] = payload.length;
  out[3] = type;
  out[4] = flags;
  new DataView(out.buffer).setUint32(5, streamId);
  out.set(payload, 9);
  return out;
}

interface ErrorCase {
  name: string;
  settingsFirst?: boolean;
  act(c: RawClient): void | Promise<void>;
  /** GOAWAY with this code, or RST_STREAM [stream, code]. */
  expect: { goaway: number } | { rst: [number, number] } | "ignored";
}

const bigHeaders = (): HeaderList => [...grpcHeaders(PUT), ["x-big", "x".repeat(70_000)]];

const ERROR_CASES: ErrorCase[] = [
  {
    name: "PING with a 7-byte payload",
    act: (c) => c.raw(rawFrame(0x6, 0, 0, new Uint8Array(7))),
    expect: { goaway: ErrorCode.FRAME_SIZE_ERROR },
  },
  {
    name: "a frame above SETTINGS_MAX_FRAME_SIZE",
    act: (c) => c.raw(rawFrame(0x0, 0, 1, new Uint8Array(16385))),
    expect: { goaway: ErrorCode.FRAME_SIZE_ERROR },
  },
  {
    name: "RST_STREAM of 3 bytes",
    act: (c) => c.raw(rawFrame(0x3, 0, 1, new Uint8Array(3))),
    expect: { goaway: ErrorCode.FRAME_SIZE_ERROR },
  },
  {
    name: "unknown frame types are ignored",
    act: (c) => {
      c.raw(rawFrame(0x20, 0xff, 0, new Uint8Array(10)));
      c.raw(rawFrame(0xfa, 0, 7, new Uint8Array(0)));
    },
    expect: "ignored",
  },
  {
    name: "the first frame is not SETTINGS",
    settingsFirst: false,
    act: (c) => {
      c.raw(new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
      c.send({ type: FrameType.PING, ack: false, opaqueData: new Uint8Array(8) });
    },
    expect: { goaway: ErrorCode.PROTOCOL_ERROR },
  },
  {
    name: "DATA on an idle stream",
    act: (c) =>
      c.send({ type: FrameType.DATA, streamId: 1, endStream: false, data: new Uint8Array(4) }),
    expect: { goaway: ErrorCode.PROTOCOL_ERROR },
  },
  {
    name: "DATA on a closed stream",
    act: async (c) => {
      c.headers(1, grpcHeaders(RANGE), false);
      c.send({
        type: FrameType.DATA,
        streamId: 1,
        endStream: true,
        data: frame(rangeReq("a")),
      });
      await c.waitFor((f) => f.type === FrameType.HEADERS && f.streamId === 1 && f.endStream);
      c.send({ type: FrameType.DATA, streamId: 1, endStream: false, data: new Uint8Array(4) });
    },
    expect: { rst: [1, ErrorCode.STREAM_CLOSED] },
  },
  {
    name: "HEADERS on an even stream",
    act: (c) => c.headers(2, grpcHeaders(PUT), true),
    expect: { goaway: ErrorCode.PROTOCOL_ERROR },
  },
  {
    name: "HPACK garbage (index 0)",
    act: (c) => c.raw(rawFrame(0x1, 0x5, 1, new Uint8Array([0x80]))),
    expect: { goaway: ErrorCode.COMPRESSION_ERROR },
  },
  {
    name: "HPACK garbage (index beyond the tables)",
    act: (c) => c.raw(rawFrame(0x1, 0x5, 1, new Uint8Array([0xff, 0x40]))),
    expect: { goaway: ErrorCode.COMPRESSION_ERROR },
  },
  {
    name: "a header list above SETTINGS_MAX_HEADER_LIST_SIZE refuses only its stream",
    act: (c) => {
      const block = c.enc.encode(bigHeaders());
      const first = block.subarray(0, 16384);
      c.raw(rawFrame(0x1, 0x1, 1, first));
      for (let i = 16384; i < block.length; i += 16384) {
        const end = Math.min(block.length, i + 16384);
        c.raw(rawFrame(0x9, end === block.length ? 0x4 : 0, 1, block.subarray(i, end)));
      }
    },
    expect: { rst: [1, ErrorCode.PROTOCOL_ERROR] },
  },
  {
    name: "a CONTINUATION flood",
    act: (c) => {
      c.raw(rawFrame(0x1, 0, 1, c.enc.encode(grpcHeaders(PUT))));
      for (let i = 0; i < 12; i++) c.raw(rawFrame(0x9, 0, 1, new Uint8Array(16000).fill(0x40)));
    },
    expect: { goaway: ErrorCode.ENHANCE_YOUR_CALM },
  },
  {
    name: "CONTINUATION without HEADERS",
    act: (c) => c.raw(rawFrame(0x9, 0x4, 1, new Uint8Array([0x82]))),
    expect: { goaway: ErrorCode.PROTOCOL_ERROR },
  },
  {
    name: "a header block interrupted by another frame",
    act: (c) => {
      c.raw(rawFrame(0x1, 0, 1, c.enc.encode(grpcHeaders(PUT))));
      c.send({ type: FrameType.PING, ack: false, opaqueData: new Uint8Array(8) });
    },
    expect: { goaway: ErrorCode.PROTOCOL_ERROR },
  },
  {
    name: "a request without :path",
    act: (c) => c.headers(1, [[":method", "POST"], [":scheme", "http"]], true),
    expect: { rst: [1, ErrorCode.PROTOCOL_ERROR] },
  },
  {
    name: "an upper-case header name",
    act: (c) => c.headers(1, [...grpcHeaders(PUT), ["X-Up", "1"]], true),
    expect: { rst: [1, ErrorCode.PROTOCOL_ERROR] },
  },
  {
    name: "a stream window pushed above 2^31-1",
    act: (c) => {
      c.headers(1, grpcHeaders(WATCH), false);
      c.send({ type: FrameType.WINDOW_UPDATE, streamId: 1, increment: 0x7fffffff });
    },
    expect: { rst: [1, ErrorCode.FLOW_CONTROL_ERROR] },
  },
  {
    name: "the connection window pushed above 2^31-1",
    act: (c) => c.send({ type: FrameType.WINDOW_UPDATE, streamId: 0, increment: 0x7fffffff }),
    expect: { goaway: ErrorCode.FLOW_CONTROL_ERROR },
  },
  {
    name: "WINDOW_UPDATE of 0 on a stream",
    act: (c) => {
      c.headers(1, grpcHeaders(WATCH), false);
      c.raw(rawFrame(0x8, 0, 1, new Uint8Array(4)));
    },
    expect: { rst: [1, ErrorCode.PROTOCOL_ERROR] },
  },
  {
    name: "more DATA than the stream window while the receiver does not read",
    act: (c) => {
      c.headers(1, [
        [":method", "POST"],
        [":scheme", "http"],
        [":path", "/hold"],
        [":authority", HOST],
      ], false);
      const chunk = new Uint8Array(16384);
      for (let i = 0; i < 66; i++) {
        c.send({ type: FrameType.DATA, streamId: 1, endStream: false, data: chunk });
      }
    },
    expect: { rst: [1, ErrorCode.FLOW_CONTROL_ERROR] },
  },
  {
    name: "PUSH_PROMISE from a client",
    act: (c) => c.raw(rawFrame(0x5, 0x4, 1, new Uint8Array([0, 0, 0, 2, 0x82]))),
    expect: { goaway: ErrorCode.PROTOCOL_ERROR },
  },
];

Deno.test("lean: protocol errors get the right RST_STREAM or GOAWAY; the server keeps serving", async () => {
  await withServer(async ({ port }) => {
    for (const tc of ERROR_CASES) {
      const c = await RawClient.connect(port, { preface: tc.settingsFirst ?? true });
      try {
        await tc.act(c);
        const e = tc.expect;
        if (e === "ignored") {
          c.send({ type: FrameType.PING, ack: false, opaqueData: new Uint8Array(8).fill(7) });
          await c.waitFor((f) => f.type === FrameType.PING && f.ack);
          assert.ok(!c.frames.some((f) => f.type === FrameType.GOAWAY), tc.name);
        } else if ("goaway" in e) {
          const g = await c.waitFor((f) => f.type === FrameType.GOAWAY);
          assert.ok(g.type === FrameType.GOAWAY);
          assert.equal(g.errorCode, e.goaway, `${tc.name}: GOAWAY code`);
          await c.waitClosed();
        } else {
          const r = await c.rst(e.rst[0]);
          assert.ok(r.type === FrameType.RST_STREAM);
          assert.equal(r.errorCode, e.rst[1], `${tc.name}: RST_STREAM code`);
          // The connection survives a stream error.
          c.send({ type: FrameType.PING, ack: false, opaqueData: new Uint8Array(8).fill(9) });
          await c.waitFor((f) => f.type === FrameType.PING && f.ack);
          assert.ok(!c.frames.some(isGoaway(ErrorCode.PROTOCOL_ERROR)), tc.name);
        }
      } catch (err) {
        throw new Error(`${tc.name}: ${(err as Error).message}`);
      } finally {
        c.close();
      }
      await assertServing(port);
    }
  });
});
