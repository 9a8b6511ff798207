import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { Errors } from "../../../src/errors/etcd_errors.ts";
import { type CallContext, GrpcServer } from "../../../src/api/mod.ts";
import { messages } from "../../../src/pb/mod.ts";
import {
  deserializer,
  frame,
  grpcHeaders,
  rawRequest,
  serializer,
  startServer,
  unaryCall,
} from "../../helpers/grpc.ts";
import { sleep } from "../../helpers/wait.ts";

const HOST = "127.0.60.10";
const te = new TextEncoder();
const td = new TextDecoder();

async function withServer(
  setup: (g: GrpcServer) => void,
  body: (client: grpc.Client, target: string) => Promise<void>,
  opts: ConstructorParameters<typeof GrpcServer>[0] = {},
) {
  const g = new GrpcServer(opts);
  setup(g);
  const fx = await startServer(HOST, g);
  const client = new grpc.Client(fx.target, grpc.credentials.createInsecure());
  try {
    await body(client, fx.target);
  } finally {
    client.close();
    await fx.close();
  }
}

const rangePath = "/etcdserverpb.KV/Range";
const range = (client: grpc.Client, req: unknown, opts = {}) =>
  unaryCall(
    client,
    rangePath,
    "etcdserverpb.RangeRequest",
    "etcdserverpb.RangeResponse",
    req,
    opts,
  );

Deno.test("grpc: unary call with metadata, peer and typed handlers", async () => {
  let seen: CallContext | undefined;
  await withServer(
    (g) =>
      g.addService("etcdserverpb.KV", {
        Range: (req, ctx) => {
          seen = ctx;
          return Promise.resolve({
            header: { clusterId: 2n ** 64n - 1n, revision: 9 },
            kvs: [{ key: req.key, value: te.encode("v"), lease: 5n }],
            count: req.limit,
          });
        },
      }),
    async (client) => {
      const md = new grpc.Metadata();
      md.set("token", "abc");
      md.set("hasleader", "true");
      const res = await range(client, { key: te.encode("foo"), limit: 3 }, { metadata: md });
      assert.equal(res.header!.clusterId, 2n ** 64n - 1n);
      assert.equal(res.header!.revision, 9);
      assert.equal(td.decode(res.kvs[0].key), "foo");
      assert.equal(res.kvs[0].lease, 5n);
      assert.equal(res.count, 3);
    },
  );
  assert.equal(seen!.metadata.token, "abc");
  assert.equal(seen!.metadata.hasleader, "true");
  assert.equal(seen!.method, rangePath);
  assert.match(seen!.peer, /^127\.\d+\.\d+\.\d+:\d+$/);
  assert.equal(seen!.deadline, undefined);
  assert.equal(seen!.peerCertificate(), undefined);
  assert.ok(seen!.signal.aborted, "the call's signal fires once the call is over");
});

Deno.test("grpc: EtcdError keeps its code and message; other errors are Unknown", async () => {
  await withServer(
    (g) =>
      g.addService("etcdserverpb.Lease", {
        LeaseRevoke: () => Promise.reject(Errors.leaseNotFound()),
        LeaseGrant: () => Promise.reject(new Error("disk on fire: 100% ünïcode")),
        LeaseTimeToLive: () => {
          throw Errors.noLeader();
        },
      }),
    async (client) => {
      const call = (m: string) =>
        unaryCall(
          client,
          `/etcdserverpb.Lease/${m}`,
          "etcdserverpb.LeaseRevokeRequest",
          "etcdserverpb.LeaseRevokeResponse",
          { ID: 1n },
        )
          .then(() => assert.fail("expected an error"), (e: grpc.ServiceError) => e);
      let e = await call("LeaseRevoke");
      assert.equal(e.code, grpc.status.NOT_FOUND);
      assert.equal(e.details, "etcdserver: requested lease not found");
      e = await call("LeaseGrant");
      assert.equal(e.code, grpc.status.UNKNOWN);
      assert.equal(e.details, "disk on fire: 100% ünïcode");
      e = await call("LeaseTimeToLive");
      assert.equal(e.code, grpc.status.UNAVAILABLE);
      assert.equal(e.details, "etcdserver: no leader");
    },
  );
});

Deno.test("grpc: unknown services and methods are Unimplemented, trailers-only", async () => {
  await withServer((g) => g.addService("etcdserverpb.KV", {}), async (client, target) => {
    const fail = (path: string) =>
      unaryCall(client, path, "etcdserverpb.RangeRequest", "etcdserverpb.RangeResponse", {})
        .then(() => assert.fail("expected an error"), (e: grpc.ServiceError) => e);
    let e = await fail("/etcdserverpb.Nope/Range");
    assert.equal(e.code, grpc.status.UNIMPLEMENTED);
    assert.equal(e.details, "unknown service etcdserverpb.Nope");
    e = await fail("/etcdserverpb.KV/Range");
    assert.equal(e.code, grpc.status.UNIMPLEMENTED);
    assert.equal(e.details, "unknown method Range for service etcdserverpb.KV");

    const raw = await rawRequest(
      target,
      grpcHeaders("/etcdserverpb.Nope/X"),
      frame(new Uint8Array(0)),
    );
    assert.equal(raw.endStreamOnHeaders, true);
    assert.equal(raw.headers[":status"], 200);
    assert.equal(raw.headers["content-type"], "application/grpc");
    assert.equal(raw.headers["grpc-status"], "12");
    assert.equal(raw.headers["grpc-message"], "unknown service etcdserverpb.Nope");
    assert.equal(raw.trailers, undefined);
  });
});

Deno.test("grpc: a normal response is headers, one frame, then status trailers", async () => {
  await withServer(
    (g) => g.addService("etcdserverpb.KV", { Range: () => Promise.resolve({ count: 1 }) }),
    async (_client, target) => {
      const raw = await rawRequest(target, grpcHeaders(rangePath), frame(new Uint8Array(0)));
      assert.equal(raw.endStreamOnHeaders, false);
      assert.equal(raw.headers["grpc-status"], undefined);
      assert.deepEqual(
        raw.data,
        frame(messages["etcdserverpb.RangeResponse"].encode({ count: 1 })),
      );
      assert.equal(raw.trailers!["grpc-status"], "0");
      assert.equal(raw.trailers!["grpc-message"], undefined);
    },
  );
});

Deno.test("grpc: grpc-message is percent-encoded", async () => {
  await withServer(
    (g) => g.addService("etcdserverpb.KV", { Range: () => Promise.reject(new Error("50% é\n")) }),
    async (_client, target) => {
      const raw = await rawRequest(target, grpcHeaders(rangePath), frame(new Uint8Array(0)));
      assert.equal(raw.headers["grpc-message"], "50%25 %C3%A9%0A");
    },
  );
});

Deno.test("grpc: grpc-timeout sets ctx.deadline and expires as DeadlineExceeded", async () => {
  let ctxDeadline: number | undefined;
  let abortedBy: unknown;
  await withServer(
    (g) =>
      g.addService("etcdserverpb.KV", {
        Range: async (_req, ctx) => {
          ctxDeadline = ctx.deadline;
          await new Promise((r) => ctx.signal.addEventListener("abort", r));
          abortedBy = ctx.signal.reason;
          return {};
        },
      }),
    async (client, target) => {
      const start = Date.now();
      const raw = await rawRequest(
        target,
        grpcHeaders(rangePath, { "grpc-timeout": "150m" }),
        frame(new Uint8Array(0)),
      );
      assert.ok(Date.now() - start >= 140);
      assert.ok(ctxDeadline! >= start + 140 && ctxDeadline! <= start + 400);
      assert.equal(raw.headers["grpc-status"], "4");
      assert.equal(raw.headers["grpc-message"], "context deadline exceeded");
      assert.equal((abortedBy as { code: number }).code, 4);
      // grpc-js sends grpc-timeout from its deadline option.
      const e = await range(client, {}, { deadline: Date.now() + 100 }).catch((e) => e);
      assert.equal(e.code, grpc.status.DEADLINE_EXCEEDED);
    },
  );
});

Deno.test("grpc: requests above the receive limit are ResourceExhausted", async () => {
  let called = false;
  await withServer(
    (g) =>
      g.addService("etcdserverpb.KV", {
        Put: () => {
          called = true;
          return Promise.resolve({});
        },
      }),
    async (client) => {
      const req = { key: te.encode("k"), value: new Uint8Array(2000) };
      const size = messages["etcdserverpb.PutRequest"].encode(req).length;
      const e = await unaryCall(
        client,
        "/etcdserverpb.KV/Put",
        "etcdserverpb.PutRequest",
        "etcdserverpb.PutResponse",
        req,
      )
        .catch((e) => e);
      assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(e.details, `grpc: received message larger than max (${size} vs. 1024)`);
      // At the limit it passes.
      const ok = { key: te.encode("k"), value: new Uint8Array(1024 - 6) };
      assert.equal(messages["etcdserverpb.PutRequest"].encode(ok).length, 1024);
      await unaryCall(
        client,
        "/etcdserverpb.KV/Put",
        "etcdserverpb.PutRequest",
        "etcdserverpb.PutResponse",
        ok,
      );
    },
    { maxReceiveMessageSize: 1024 },
  );
  assert.ok(called);
});

Deno.test("grpc: malformed and compressed requests are refused", async () => {
  await withServer(
    (g) => g.addService("etcdserverpb.KV", { Range: () => Promise.resolve({}) }),
    async (_client, target) => {
      let raw = await rawRequest(target, grpcHeaders(rangePath), frame(new Uint8Array([0x0a, 5])));
      assert.equal(raw.headers["grpc-status"], "13");
      assert.match(String(raw.headers["grpc-message"]), /^grpc: error unmarshalling request: /);
      raw = await rawRequest(target, grpcHeaders(rangePath), frame(new Uint8Array(0), 1));
      assert.equal(raw.headers["grpc-status"], "12");
      raw = await rawRequest(
        target,
        grpcHeaders(rangePath, { "grpc-encoding": "gzip" }),
        frame(new Uint8Array(0)),
      );
      assert.equal(raw.headers["grpc-status"], "12");
      assert.equal(
        raw.headers["grpc-message"],
        'grpc: Decompressor is not installed for grpc-encoding "gzip"',
      );
      raw = await rawRequest(target, grpcHeaders(rangePath), new Uint8Array([0, 0, 0]));
      assert.equal(raw.headers["grpc-status"], "13");
    },
  );
});

Deno.test("grpc: bidi stream echoes until the client half-closes", async () => {
  await withServer(
    (g) =>
      g.addService("etcdserverpb.Watch", {
        Watch: async (requests, send) => {
          for await (const req of requests) {
            await send({ watchId: req.createRequest!.startRevision, created: true });
          }
          await send({ canceled: true, cancelReason: "done" });
        },
      }),
    async (client) => {
      const call = client.makeBidiStreamRequest(
        "/etcdserverpb.Watch/Watch",
        serializer("etcdserverpb.WatchRequest"),
        deserializer("etcdserverpb.WatchResponse"),
      );
      const got: number[] = [];
      const threeCreated = Promise.withResolvers<void>();
      let reason = "";
      const ended = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
      call.on("data", (r) => {
        if (r.canceled) reason = r.cancelReason;
        else if (got.push(r.watchId) === 3) threeCreated.resolve();
      });
      for (const rev of [5, 6, 7]) call.write({ createRequest: { startRevision: rev } });
      await threeCreated.promise;
      assert.deepEqual(got, [5, 6, 7]);
      call.end();
      const status = await ended;
      assert.equal(status.code, grpc.status.OK);
      assert.equal(reason, "done");
    },
  );
});

Deno.test("grpc: client cancel aborts ctx.signal and makes send() reject", async () => {
  let resolveAborted: (v: unknown) => void;
  const aborted = new Promise((r) => (resolveAborted = r));
  const sendAfterCancel = Promise.withResolvers<unknown>();
  await withServer(
    (g) =>
      g.addService("etcdserverpb.Maintenance", {
        Snapshot: async (_req, ctx, send) => {
          await send({ remainingBytes: 1 });
          await new Promise((r) => ctx.signal.addEventListener("abort", r));
          resolveAborted(ctx.signal.reason);
          sendAfterCancel.resolve(await send({ remainingBytes: 0 }).catch((e) => e));
        },
      }),
    async (client) => {
      const call = client.makeServerStreamRequest(
        "/etcdserverpb.Maintenance/Snapshot",
        serializer("etcdserverpb.SnapshotRequest"),
        deserializer("etcdserverpb.SnapshotResponse"),
        {},
      );
      call.on("error", () => {});
      await new Promise((r) => call.once("data", r));
      call.cancel();
      const reason = await Promise.race([aborted, sleep(2000).then(() => "timeout")]);
      assert.equal((reason as { code: number }).code, grpc.status.CANCELLED);
      const rejected = await sendAfterCancel.promise;
      assert.equal((rejected as { code: number }).code, grpc.status.CANCELLED);
    },
  );
});

Deno.test("grpc: a slow reader holds the sender back (flow control, bounded buffering)", async () => {
  const chunk = new Uint8Array(64 * 1024);
  const total = 160; // 10 MiB if nothing held the sender back
  let sent = 0;
  await withServer(
    (g) =>
      g.addService("etcdserverpb.Maintenance", {
        Snapshot: async (_req, _ctx, send) => {
          for (let i = 0; i < total; i++) {
            await send({ remainingBytes: total - i - 1, blob: chunk });
            sent++;
          }
        },
      }),
    async (client) => {
      const call = client.makeServerStreamRequest(
        "/etcdserverpb.Maintenance/Snapshot",
        serializer("etcdserverpb.SnapshotRequest"),
        deserializer("etcdserverpb.SnapshotResponse"),
        {},
      );
      let received = 0;
      call.on("data", () => {
        received++;
        if (received === 1) call.pause();
      });
      await sleep(700);
      const whilePaused = sent;
      console.log(`sent while paused: ${whilePaused} x 64 KiB`);
      assert.ok(whilePaused < 48, `sender ran ahead by ${whilePaused} x 64 KiB while paused`);
      const done = new Promise((r) => call.on("status", r));
      call.resume();
      await done;
      assert.equal(received, total);
      assert.equal(sent, total);
    },
  );
});

Deno.test("grpc: grpc.health.v1.Health/Check answers SERVING", async () => {
  await withServer(() => {}, async (client) => {
    const res = await unaryCall(
      client,
      "/grpc.health.v1.Health/Check",
      "grpc.health.v1.HealthCheckRequest",
      "grpc.health.v1.HealthCheckResponse",
      {},
    );
    assert.equal(res.status, 1);
  });
});

Deno.test("grpc: addService rejects unknown services, methods and duplicates", () => {
  const g = new GrpcServer();
  // deno-lint-ignore no-explicit-any
  assert.throws(() => g.addService("etcdserverpb.Nope" as any, {}), /unknown service/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => g.addService("etcdserverpb.KV", { Nope: () => {} } as any), /no method/);
  g.addService("etcdserverpb.KV", { Range: () => Promise.resolve({}) });
  assert.throws(
    () => g.addService("etcdserverpb.KV", { Range: () => Promise.resolve({}) }),
    /already registered/,
  );
});

Deno.test("grpc: a bidi handler may finish without reading; the client still gets its status", async () => {
  await withServer(
    (g) => g.addService("etcdserverpb.Lease", { LeaseKeepAlive: () => Promise.resolve() }),
    async (client) => {
      const call = client.makeBidiStreamRequest(
        "/etcdserverpb.Lease/LeaseKeepAlive",
        serializer("etcdserverpb.LeaseKeepAliveRequest"),
        deserializer("etcdserverpb.LeaseKeepAliveResponse"),
      );
      const status = new Promise<grpc.StatusObject>((resolve) => call.on("status", resolve));
      call.on("data", () => {});
      for (let i = 0; i < 100; i++) call.write({ ID: BigInt(i) });
      assert.equal((await status).code, grpc.status.OK);
      call.end();
    },
  );
});
