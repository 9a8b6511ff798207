// Fuzzes the lean server connection on an in-memory socket: random mixes of valid requests,
// flow-control and control frames, malformed frames and raw bytes, cut into random chunks.
// Properties: nothing throws out of the connection; everything it writes parses as frames,
// and nothing follows an error GOAWAY; each stream's events arrive in order (data, end, then exactly
// one close, also when the connection dies). Runs in memory, so thousands of cases are fast.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type * as net from "node:net";
import { setImmediate } from "node:timers";
import fc from "fast-check";
import {
  CONNECTION_PREFACE,
  encodeFrame,
  type Frame,
  FrameParser,
  FrameType,
  type HeaderList,
  HpackEncoder,
  ServerConnection,
  type ServerStream,
} from "../../src/h2/mod.ts";
import { GrpcServer } from "../../src/api/mod.ts";

/** Just enough of net.Socket for ServerConnection. */
class MemorySocket extends EventEmitter {
  readonly out: Uint8Array[] = [];
  remoteAddress = "127.0.0.1";
  remotePort = 1;
  destroyed = false;
  writableEnded = false;
  writableLength = 0;
  /** Report back-pressure on every write (exercises the blocked-socket paths). */
  slow = false;
  setNoDelay() {}
  write(chunk: Uint8Array): boolean {
    this.out.push(chunk.slice());
    if (this.slow) queueMicrotask(() => this.emit("drain"));
    return !this.slow;
  }
  end() {
    this.writableEnded = true;
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    queueMicrotask(() => this.emit("close"));
  }
}

const PATHS = ["/etcdserverpb.KV/Put", "/etcdserverpb.Watch/Watch", "/nope/x", "/plain"];

/** Abstract actions, turned into bytes with one HPACK encoder per case (valid blocks). */
const action = fc.oneof(
  fc.record({
    k: fc.constant("headers" as const),
    id: fc.integer({ min: 0, max: 9 }),
    path: fc.constantFrom(...PATHS),
    end: fc.boolean(),
    authority: fc.constantFrom("h:1", "http://127.0.0.1:2379", ""),
  }),
  fc.record({
    k: fc.constant("data" as const),
    id: fc.integer({ min: 0, max: 9 }),
    end: fc.boolean(),
    data: fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.constant(new Uint8Array([0, 0, 0, 0, 2, 0x0a, 0])),
    ),
  }),
  fc.record({
    k: fc.constant("window" as const),
    id: fc.integer({ min: 0, max: 9 }),
    inc: fc.oneof(fc.integer({ min: 1, max: 70000 }), fc.constant(0x7fffffff)),
  }),
  fc.record({ k: fc.constant("rst" as const), id: fc.integer({ min: 0, max: 9 }) }),
  fc.record({
    k: fc.constant("settings" as const),
    window: fc.integer({ min: 0, max: 1 << 20 }),
    frame: fc.integer({ min: 16384, max: 20000 }),
    table: fc.integer({ min: 0, max: 8192 }),
  }),
  fc.record({ k: fc.constant("ping" as const), ack: fc.boolean() }),
  fc.record({ k: fc.constant("goaway" as const) }),
  fc.record({
    k: fc.constant("raw" as const),
    type: fc.integer({ min: 0, max: 12 }),
    flags: fc.integer({ min: 0, max: 255 }),
    id: fc.integer({ min: 0, max: 9 }),
    payload: fc.uint8Array({ maxLength: 24 }),
    lie: fc.integer({ min: -2, max: 2 }),
  }),
);
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;

function toBytes(a: Action, enc: HpackEncoder): Uint8Array {
  switch (a.k) {
    case "headers": {
      const list: HeaderList = [
        [":method", "POST"],
        [":scheme", "http"],
        [":path", a.path],
        [":authority", a.authority],
      ];
      if (a.path !== "/plain") list.push(["content-type", "application/grpc"]);
      const f: Frame = {
        type: FrameType.HEADERS,
        streamId: a.id,
        endStream: a.end,
        endHeaders: true,
        headerBlock: enc.encode(list),
      };
      return encodeFrame(f);
    }
    case "data":
      return encodeFrame({ type: FrameType.DATA, streamId: a.id, endStream: a.end, data: a.data });
    case "window":
      return encodeFrame({ type: FrameType.WINDOW_UPDATE, streamId: a.id, increment: a.inc });
    case "rst":
      return encodeFrame({ type: FrameType.RST_STREAM, streamId: a.id, errorCode: 8 });
    case "settings":
      return encodeFrame({
        type: FrameType.SETTINGS,
        ack: false,
        settings: [[0x4, a.window], [0x5, a.frame], [0x1, a.table]],
      });
    case "ping":
      return encodeFrame({ type: FrameType.PING, ack: a.ack, opaqueData: new Uint8Array(8) });
    case "goaway":
      return encodeFrame({
        type: FrameType.GOAWAY,
        lastStreamId: 0,
        errorCode: 0,
        debugData: new Uint8Array(0),
      });
    case "raw": {
      const len = Math.max(0, a.payload.length + a.lie);
      const out = new Uint8Array(9 + a.payload.length);
      out.set([len >>> 16, len >>> 8, len, a.type, a.flags, 0, 0, 0, a.id]);
      out.set(a.payload, 9);
      return out;
    }
  }
}

function grpcStub(): GrpcServer {
  const g = new GrpcServer();
  g.addService("etcdserverpb.KV", { Put: () => Promise.resolve({}) });
  g.addService("etcdserverpb.Watch", {
    Watch: async (requests, send) => {
      for await (const _ of requests) await send({ watchId: 1, created: true });
    },
  });
  return g;
}

/** A plain handler that checks the event order and answers once the request ends. */
function recorder(s: ServerStream, violations: string[], streams: { closed: number }[]) {
  const state = { ended: false, closed: 0 };
  streams.push(state);
  s.attach({
    onData() {
      if (state.ended || state.closed) violations.push("data after end/close");
    },
    onEnd() {
      if (state.ended || state.closed) violations.push("second end or end after close");
      state.ended = true;
      if (s.closed) return;
      s.respond({ ":status": 200 }, false, false);
      s.write(new Uint8Array(100));
      s.end();
    },
    onDrain() {},
    onClose() {
      state.closed++;
      if (state.closed > 1) violations.push("second close");
    },
  });
}

// FrameWriter flushes on setImmediate; handlers settle within a few microtask rounds.
const tick = () => new Promise((r) => setImmediate(r));

Deno.test("lean server fuzz: random frames never crash it and keep stream events in order", async () => {
  const grpc = grpcStub();
  await fc.assert(
    fc.asyncProperty(
      fc.array(action, { maxLength: 25 }),
      fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      async (actions, cuts, slow) => {
        const enc = new HpackEncoder();
        const parts = [
          CONNECTION_PREFACE,
          encodeFrame({ type: FrameType.SETTINGS, ack: false, settings: [] }),
        ];
        for (const a of actions) parts.push(toBytes(a, enc));
        const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let off = 0;
        for (const p of parts) {
          bytes.set(p, off);
          off += p.length;
        }
        const socket = new MemorySocket();
        socket.slow = slow;
        const violations: string[] = [];
        const streams: { closed: number }[] = [];
        new ServerConnection(socket as unknown as net.Socket, {
          onStream: (s) =>
            s.headers["content-type"] === undefined
              ? recorder(s, violations, streams)
              : grpc.handleStream(s),
          maxConcurrentStreams: 3,
        });
        for (let i = 0, c = 0; i < bytes.length; c++) {
          const n = cuts[c % cuts.length];
          socket.emit("data", bytes.subarray(i, i + n));
          i += n;
        }
        await tick();
        await tick();
        socket.destroy();
        await tick();
        await tick();

        assert.deepEqual(violations, []);
        for (const s of streams) assert.equal(s.closed, 1, "every stream closes exactly once");
        const parser = new FrameParser({ maxFrameSize: 1 << 24 });
        const frames: Frame[] = [];
        for (const chunk of socket.out) {
          parser.push(chunk, (f) => frames.push(f), (e) => {
            throw e;
          });
        }
        // After a GOAWAY for an error nothing follows; after a graceful one (NO_ERROR) only
        // connection frames and the streams it covers may follow.
        const gi = frames.findIndex((f) => f.type === FrameType.GOAWAY);
        const g = frames[gi];
        if (g?.type === FrameType.GOAWAY) {
          for (const f of frames.slice(gi + 1)) {
            assert.equal(g.errorCode, 0, "nothing after an error GOAWAY");
            const id = "streamId" in f ? f.streamId : 0;
            assert.ok(id <= g.lastStreamId, "connection frames or a covered stream");
          }
        }
        for (const f of frames) {
          if (f.type === FrameType.RST_STREAM) {
            assert.equal(f.streamId % 2, 1, "RST_STREAM only for streams the client opened");
          }
        }
        assert.ok(frames[0]?.type === FrameType.SETTINGS, "the server preface is SETTINGS");
      },
    ),
    { numRuns: 3000 },
  );
});
