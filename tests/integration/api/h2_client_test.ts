// The client connection against a scripted peer built from the same codec: SETTINGS, stream
// limits, flow control, PING, CONTINUATION, RST_STREAM, GOAWAY and protocol errors.
import assert from "node:assert/strict";
import * as net from "node:net";
import {
  encodeFrame,
  ErrorCode,
  type Frame,
  FrameParser,
  FrameType,
  H2Error,
  type HeaderList,
  HpackDecoder,
  HpackEncoder,
  type Settings,
} from "../../../src/h2/mod.ts";
import { type ClientConnection, connect, type StreamHandler } from "../../support/h2/mod.ts";

const HOST = "127.0.71.2";

class Peer {
  readonly frames: Frame[] = [];
  readonly enc = new HpackEncoder();
  readonly dec = new HpackDecoder();
  private waiters: (() => void)[] = [];
  ended = false;

  constructor(readonly socket: net.Socket) {
    const parser = new FrameParser({ expectPreface: true });
    socket.on("data", (chunk: Uint8Array) => {
      parser.push(chunk, (f) => {
        if (f.type === FrameType.PING && !f.ack) {
          return this.send({ type: FrameType.PING, ack: true, opaqueData: f.opaqueData });
        }
        this.frames.push(f);
        for (const w of this.waiters.splice(0)) w();
      }, (e) => {
        throw e;
      });
    });
    socket.on("end", () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on("error", () => {});
  }

  send(...frames: Frame[]) {
    for (const f of frames) this.socket.write(encodeFrame(f));
  }

  headers(streamId: number, headers: HeaderList, endStream: boolean) {
    this.send({
      type: FrameType.HEADERS,
      streamId,
      endStream,
      endHeaders: true,
      headerBlock: this.enc.encode(headers),
    });
  }

  /** The next unseen frame matching `pred` (frames are consumed in order of arrival). */
  async next<T extends Frame>(pred: (f: Frame) => f is T): Promise<T>;
  async next(pred: (f: Frame) => boolean): Promise<Frame>;
  async next(pred: (f: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.ended) throw new Error("peer connection ended");
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  async untilEnded() {
    while (!this.ended) await new Promise<void>((r) => this.waiters.push(r));
  }
}

const is =
  <T extends Frame["type"]>(type: T, streamId?: number) =>
  (f: Frame): f is Extract<Frame, { type: T }> =>
    f.type === type &&
    (streamId === undefined || (f as { streamId?: number }).streamId === streamId);

async function withPeer(
  settings: [number, number][],
  fn: (conn: ClientConnection, peer: Peer) => Promise<void>,
  clientSettings: Partial<Settings> = {},
) {
  let accept!: (p: Peer) => void;
  const accepted = new Promise<Peer>((r) => accept = r);
  const server = net.createServer((s) => accept(new Peer(s)));
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const connecting = connect({ host: HOST, port, settings: clientSettings });
    const peer = await accepted;
    const hello = await peer.next(is(FrameType.SETTINGS));
    assert.ok(!hello.ack && hello.settings.some(([id, v]) => id === 2 && v === 0), "push disabled");
    peer.send({ type: FrameType.SETTINGS, ack: false, settings });
    const conn = await connecting;
    await peer.next((f) => f.type === FrameType.SETTINGS && f.ack);
    try {
      await fn(conn, peer);
    } finally {
      conn.destroy();
      peer.socket.destroy();
    }
  } finally {
    await new Promise((r) => server.close(r));
  }
}

/** A handler recording what a stream saw. */
function recorder() {
  const seen: { headers: HeaderList[]; data: number[]; error?: Error; closed: boolean } = {
    headers: [],
    data: [],
    closed: false,
  };
  let done!: () => void;
  const closed = new Promise<void>((r) => done = r);
  const handler: StreamHandler = {
    onHeaders: (h) => seen.headers.push(h),
    onData: (d) => seen.data.push(...d),
    onClose: (e) => {
      seen.error = e;
      seen.closed = true;
      done();
    },
  };
  return { seen, handler, closed };
}

const req: HeaderList = [[":method", "POST"], [":scheme", "http"], [":path", "/x"], [
  ":authority",
  "t",
]];

Deno.test("client: stream limit queues requests; ids are odd and increasing", async () => {
  await withPeer([[3, 2]], async (conn, peer) => {
    const rs = Array.from({ length: 5 }, () => recorder());
    rs.forEach((r) => conn.request(req, r.handler));
    const first = await peer.next(is(FrameType.HEADERS));
    const second = await peer.next(is(FrameType.HEADERS));
    assert.deepEqual([first.streamId, second.streamId], [1, 3]);
    await conn.ping(); // round trip: nothing more was sent meanwhile
    assert.equal(peer.frames.filter((f) => f.type === FrameType.HEADERS).length, 0);
    peer.headers(1, [[":status", "200"]], true);
    const third = await peer.next(is(FrameType.HEADERS));
    assert.equal(third.streamId, 5);
    await rs[0].closed;
    assert.deepEqual(rs[0].seen.headers, [[[":status", "200"]]]);
  });
});

Deno.test("client: DATA waits for the stream window, resumes on WINDOW_UPDATE", async () => {
  await withPeer([[4, 10]], async (conn, peer) => {
    const r = recorder();
    conn.request(req, r.handler, new Uint8Array(25).fill(7));
    const d1 = await peer.next(is(FrameType.DATA));
    assert.equal(d1.data.length, 10);
    assert.equal(d1.endStream, false);
    peer.send({ type: FrameType.WINDOW_UPDATE, streamId: 1, increment: 100 });
    const d2 = await peer.next(is(FrameType.DATA));
    assert.equal(d2.data.length, 15);
    assert.equal(d2.endStream, true);
    // a SETTINGS change of the initial window applies to open streams too (may go negative)
    peer.send({ type: FrameType.SETTINGS, ack: false, settings: [[4, 0]] });
    await peer.next((f) => f.type === FrameType.SETTINGS && f.ack);
  });
});

Deno.test("client: answers PING, reassembles CONTINUATION, delivers DATA and trailers", async () => {
  await withPeer([], async (conn, peer) => {
    peer.send({
      type: FrameType.PING,
      ack: false,
      opaqueData: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
    });
    const pong = await peer.next(is(FrameType.PING));
    assert.ok(pong.ack);
    assert.deepEqual([...pong.opaqueData], [1, 2, 3, 4, 5, 6, 7, 8]);

    const r = recorder();
    conn.request(req, r.handler);
    await peer.next(is(FrameType.HEADERS));
    const block = peer.enc.encode([[":status", "200"], ["x-long", "y".repeat(50)]]);
    peer.send(
      {
        type: FrameType.HEADERS,
        streamId: 1,
        endStream: false,
        endHeaders: false,
        headerBlock: block.subarray(0, 5),
      },
      {
        type: FrameType.CONTINUATION,
        streamId: 1,
        endHeaders: false,
        headerBlock: block.subarray(5, 9),
      },
      {
        type: FrameType.CONTINUATION,
        streamId: 1,
        endHeaders: true,
        headerBlock: block.subarray(9),
      },
      {
        type: FrameType.DATA,
        streamId: 1,
        endStream: false,
        data: new Uint8Array([1, 2]),
        padLength: 3,
      },
    );
    peer.headers(1, [["grpc-status", "0"]], true);
    await r.closed;
    assert.equal(r.seen.error, undefined);
    assert.deepEqual(r.seen.headers, [[[":status", "200"], ["x-long", "y".repeat(50)]], [[
      "grpc-status",
      "0",
    ]]]);
    assert.deepEqual(r.seen.data, [1, 2]);
  });
});

Deno.test("client: RST_STREAM fails only its stream", async () => {
  await withPeer([], async (conn, peer) => {
    const a = recorder(), b = recorder();
    conn.request(req, a.handler);
    conn.request(req, b.handler);
    await peer.next(is(FrameType.HEADERS, 3));
    peer.send({ type: FrameType.RST_STREAM, streamId: 1, errorCode: ErrorCode.CANCEL });
    await a.closed;
    assert.ok(a.seen.error instanceof H2Error && a.seen.error.code === ErrorCode.CANCEL);
    peer.headers(3, [[":status", "200"]], true);
    await b.closed;
    assert.equal(b.seen.error, undefined);
  });
});

Deno.test("client: GOAWAY refuses streams above its last id, lets the rest finish", async () => {
  await withPeer([], async (conn, peer) => {
    const a = recorder(), b = recorder();
    conn.request(req, a.handler);
    conn.request(req, b.handler);
    await peer.next(is(FrameType.HEADERS, 3));
    let goaway = false;
    conn.onGoaway = () => goaway = true;
    peer.send({
      type: FrameType.GOAWAY,
      lastStreamId: 1,
      errorCode: 0,
      debugData: new Uint8Array(),
    });
    await b.closed;
    assert.ok(goaway);
    assert.ok(b.seen.error instanceof H2Error && b.seen.error.code === ErrorCode.REFUSED_STREAM);
    const c = recorder();
    conn.request(req, c.handler);
    await c.closed;
    assert.ok(c.seen.error instanceof H2Error && c.seen.error.code === ErrorCode.REFUSED_STREAM);
    peer.headers(1, [[":status", "200"]], true);
    await a.closed;
    assert.equal(a.seen.error, undefined);
    await peer.untilEnded(); // nothing left: the client ends the connection
    assert.equal(await conn.closed, undefined);
  });
});

Deno.test("client: protocol violations end the connection with GOAWAY and an H2Error", async () => {
  const violations: [string, Frame][] = [
    ["DATA on a stream never opened", {
      type: FrameType.DATA,
      streamId: 9,
      endStream: false,
      data: new Uint8Array(1),
    }],
    ["PUSH_PROMISE with push disabled", {
      type: FrameType.PUSH_PROMISE,
      streamId: 1,
      endHeaders: true,
      promisedStreamId: 2,
      headerBlock: new Uint8Array(),
    }],
    ["connection window overflow", {
      type: FrameType.WINDOW_UPDATE,
      streamId: 0,
      increment: 0x7fffffff,
    }],
  ];
  for (const [what, frame] of violations) {
    await withPeer([], async (conn, peer) => {
      const r = recorder();
      conn.request(req, r.handler);
      await peer.next(is(FrameType.HEADERS));
      peer.send(frame);
      const goaway = await peer.next(is(FrameType.GOAWAY));
      assert.notEqual(goaway.errorCode, ErrorCode.NO_ERROR, what);
      const err = await conn.closed;
      assert.ok(err instanceof H2Error && err.isConnectionError, what);
      await r.closed;
      assert.ok(r.seen.error, what);
    });
  }
});

Deno.test("client: DATA beyond the stream window is a stream FLOW_CONTROL_ERROR", async () => {
  await withPeer([], async (conn, peer) => {
    const small = recorder();
    conn.request(req, small.handler);
    await peer.next(is(FrameType.HEADERS));
    peer.headers(1, [[":status", "200"]], false);
    // our stream window is 100 bytes (set below)
    peer.send({ type: FrameType.DATA, streamId: 1, endStream: false, data: new Uint8Array(120) });
    const rst = await peer.next(is(FrameType.RST_STREAM, 1));
    assert.equal(rst.errorCode, ErrorCode.FLOW_CONTROL_ERROR);
    await small.closed;
    assert.ok(small.seen.error instanceof H2Error);
    assert.equal(conn.isClosed, false);
  }, { initialWindowSize: 100 });
});
