import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Deframer,
  encodeGrpcMessage,
  frameMessage,
  parseGrpcTimeout,
} from "../../src/api/grpc/wire.ts";
import { EtcdError } from "../../src/errors/etcd_errors.ts";

Deno.test("grpc wire: messages come out whole however the body is split", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 8 }),
      (msgs, cuts) => {
        const body = new Uint8Array(msgs.flatMap((m) => [...frameMessage(m)]));
        const d = new Deframer(1000);
        const out: Uint8Array[] = [];
        for (let at = 0, i = 0; at < body.length; i++) {
          const n = cuts[i % cuts.length];
          out.push(...d.push(body.subarray(at, at + n)).map((m) => new Uint8Array(m)));
          at += n;
        }
        assert.deepEqual(out, msgs);
        assert.equal(d.pending, 0);
      },
    ),
  );
});

Deno.test("grpc wire: oversized and compressed messages are refused from the prefix", () => {
  const d = new Deframer(10);
  const head = new Uint8Array([0, 0, 0, 0, 11]);
  assert.throws(
    () => d.push(head),
    (e: EtcdError) =>
      e.code === 8 && e.message === "grpc: received message larger than max (11 vs. 10)",
  );
  assert.throws(
    () => new Deframer(10).push(new Uint8Array([1, 0, 0, 0, 1, 0])),
    (e: EtcdError) => e.code === 12,
  );
});

Deno.test("grpc wire: grpc-timeout units", () => {
  assert.equal(parseGrpcTimeout("5S"), 5000);
  assert.equal(parseGrpcTimeout("100m"), 100);
  assert.equal(parseGrpcTimeout("2M"), 120_000);
  assert.equal(parseGrpcTimeout("1H"), 3_600_000);
  assert.equal(parseGrpcTimeout("3000u"), 3);
  assert.equal(parseGrpcTimeout("5000000n"), 5);
  assert.equal(parseGrpcTimeout(undefined), undefined);
  assert.equal(parseGrpcTimeout("123456789S"), undefined); // at most 8 digits
  assert.equal(parseGrpcTimeout("5s"), undefined);
});

Deno.test("grpc wire: grpc-message percent-encoding", () => {
  assert.equal(encodeGrpcMessage("etcdserver: no leader"), "etcdserver: no leader");
  assert.equal(encodeGrpcMessage("100%"), "100%25");
  assert.equal(encodeGrpcMessage("ü\t"), "%C3%BC%09");
});
