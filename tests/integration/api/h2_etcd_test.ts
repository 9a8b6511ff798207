// The lean HTTP/2 client against real etcd 3.4: unary gRPC calls, flow control with large values,
// many concurrent streams, status mapping, PING and graceful close. etcd runs on 127.0.71.1.
import assert from "node:assert/strict";
import { connect, GrpcError, unaryCall } from "../../support/h2/mod.ts";
import { GrpcCode } from "../../../src/errors/mod.ts";
import { type Proc, singleMemberFlags, startReadyEtcd } from "../../helpers/process.ts";
import { type TempDir, tempDir } from "../../helpers/tmp.ts";
import {
  asBytes,
  decodePutResponse,
  decodeRangeResponse,
  encodePutRequest,
  encodeRangeRequest,
} from "../../../scripts/bench/pb.ts";
import { assertPortsFree } from "../../helpers/ports.ts";

const HOST = "127.0.71.1";
const PORT = 2379;
const PUT = "/etcdserverpb.KV/Put";
const RANGE = "/etcdserverpb.KV/Range";

async function startEtcd(): Promise<{ proc: Proc; dir: TempDir }> {
  await assertPortsFree(HOST, [PORT, PORT + 1]);
  const dir = tempDir({ prefix: "h2-etcd-" });
  const proc = await startReadyEtcd(singleMemberFlags("h2", HOST, `${dir.path}/data`));
  return { proc, dir };
}

Deno.test("lean h2 client against etcd 3.4", async (t) => {
  const started = performance.now();
  const { proc, dir } = await startEtcd();
  try {
    const conn = await connect({ host: HOST, port: PORT });

    await t.step("Put then Range returns the value", async () => {
      const put = decodePutResponse(
        await unaryCall(
          conn,
          PUT,
          encodePutRequest({ key: asBytes("foo"), value: asBytes("bar") }),
        ),
      );
      assert.ok(put.header.revision >= 2);
      const got = decodeRangeResponse(
        await unaryCall(conn, RANGE, encodeRangeRequest({ key: asBytes("foo") })),
      );
      assert.equal(got.count, 1);
      assert.equal(new TextDecoder().decode(got.kvs[0].value), "bar");
      assert.equal(got.kvs[0].modRevision, put.header.revision);
    });

    await t.step("1 MiB value: send and receive windows are replenished", async () => {
      // a small receive window forces our WINDOW_UPDATEs; etcd's 64 KiB window forces its own
      const small = await connect({
        host: HOST,
        port: PORT,
        settings: { initialWindowSize: 65535 },
        connectionWindowSize: 65535,
      });
      const value = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
      await unaryCall(small, PUT, encodePutRequest({ key: asBytes("big"), value }));
      const got = decodeRangeResponse(
        await unaryCall(small, RANGE, encodeRangeRequest({ key: asBytes("big") })),
      );
      assert.deepEqual(got.kvs[0].value, value);
      await small.close();
    });

    await t.step("500 concurrent calls on one connection", async () => {
      await Promise.all(
        Array.from(
          { length: 500 },
          (_, i) =>
            unaryCall(
              conn,
              PUT,
              encodePutRequest({ key: asBytes(`many/${i}`), value: asBytes(`v${i}`) }),
            ),
        ),
      );
      const got = decodeRangeResponse(
        await unaryCall(
          conn,
          RANGE,
          encodeRangeRequest({ key: asBytes("many/"), rangeEnd: asBytes("many0") }),
        ),
      );
      assert.equal(got.count, 500);
    });

    await t.step("errors carry etcd's status and message", async () => {
      await assert.rejects(
        unaryCall(conn, RANGE, encodeRangeRequest({ key: new Uint8Array(0) })),
        (e) =>
          e instanceof GrpcError && e.code === GrpcCode.InvalidArgument &&
          e.details === "etcdserver: key is not provided",
      );
      await assert.rejects(
        unaryCall(conn, "/etcdserverpb.KV/NoSuchMethod", new Uint8Array(0)),
        (e) => e instanceof GrpcError && e.code === GrpcCode.Unimplemented,
      );
    });

    await t.step("PING and graceful close", async () => {
      assert.ok((await conn.ping()) >= 0);
      assert.equal(await conn.close(), undefined);
      await assert.rejects(
        unaryCall(conn, RANGE, encodeRangeRequest({ key: asBytes("foo") })),
        (e) => e instanceof GrpcError,
      );
    });
  } finally {
    proc.kill("SIGTERM");
    await proc.status;
    await dir[Symbol.asyncDispose]();
    console.log(`h2 against etcd: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
});
