// --namespace: keys and ranges put under the prefix on the way in, taken off on the way out.
import assert from "node:assert/strict";
import { Namespace } from "../../src/grpcproxy/mod.ts";
import type { KeyValue } from "../../src/pb/mod.ts";

const b = (s: string) => new TextEncoder().encode(s);
const s = (u: Uint8Array) => new TextDecoder().decode(u);
const hex = (u: Uint8Array) => [...u].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("namespace: a key, a range, and every key from a key", () => {
  const ns = new Namespace(b("t/"));
  const one = ns.interval(b("a"), new Uint8Array(0));
  assert.equal(s(one.key), "t/a");
  assert.equal(one.rangeEnd.length, 0);
  const range = ns.interval(b("a"), b("c"));
  assert.deepEqual([s(range.key), s(range.rangeEnd)], ["t/a", "t/c"]);
  // "\0" (to the end of the key space) stops at the end of the namespace: "t/" -> "t0".
  const rest = ns.interval(b("a"), new Uint8Array([0]));
  assert.deepEqual([s(rest.key), s(rest.rangeEnd)], ["t/a", "t0"]);
  // A prefix ending in 0xff carries into the byte before it.
  const ff = new Namespace(new Uint8Array([0x61, 0xff])).interval(b("k"), new Uint8Array([0]));
  assert.equal(hex(ff.rangeEnd), "62");
  // Nothing comes after all-0xff: the range runs to the end.
  const all = new Namespace(new Uint8Array([0xff])).interval(b("k"), new Uint8Array([0]));
  assert.equal(hex(all.rangeEnd), "00");
});

Deno.test("namespace: empty keys are refused as etcd's namespace client refuses them", () => {
  const ns = new Namespace(b("t/"));
  assert.throws(
    () =>
      ns.put({
        key: new Uint8Array(0),
        value: b("v"),
        lease: 0n,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      }),
    /etcdserver: key is not provided/,
  );
});

Deno.test("namespace: txn compares and ops, and the keys in answers", () => {
  const ns = new Namespace(b("t/"));
  const txn = ns.txn({
    compare: [{ result: 0, target: 3, key: b("k"), rangeEnd: new Uint8Array(0), value: b("v") }],
    success: [{
      requestPut: {
        key: b("k"),
        value: b("v"),
        lease: 0n,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      },
    }],
    failure: [{
      requestDeleteRange: { key: b("a"), rangeEnd: new Uint8Array([0]), prevKv: false },
    }],
  });
  assert.equal(s(txn.compare[0].key), "t/k");
  assert.equal(txn.compare[0].rangeEnd.length, 0);
  assert.equal(s(txn.success[0].requestPut!.key), "t/k");
  assert.equal(s(txn.failure[0].requestDeleteRange!.rangeEnd), "t0");
  const kv: KeyValue = {
    key: b("t/k"),
    value: b("v"),
    createRevision: 2,
    modRevision: 2,
    version: 1,
    lease: 0n,
  };
  const out = ns.txnResponse({
    succeeded: true,
    responses: [{ responseRange: { kvs: [kv], more: false, count: 1 } }],
  });
  assert.equal(s(out.responses[0].responseRange!.kvs[0].key), "k");
  assert.equal(s(ns.event({ type: 0, kv, prevKv: kv }).prevKv!.key), "k");
});
