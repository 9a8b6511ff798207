import assert from "node:assert/strict";
import { MvccStore } from "../../src/mvcc/mod.ts";
import { b, del, keysAt, put, s, show, ZERO } from "../helpers/mvcc.ts";

Deno.test("new store starts at revision 1, never compacted, consistent index 0", () => {
  const st = new MvccStore(":memory:");
  assert.equal(st.rev(), 1);
  assert.equal(st.compactRevision(), -1);
  assert.equal(st.consistentIndex(), 0);
  assert.deepEqual(st.range(b("a")), { kvs: [], count: 0, rev: 1 });
  st.close();
});

Deno.test("revisions, versions, tombstones and generations", () => {
  const st = new MvccStore(":memory:");
  assert.equal(put(st, "a", "1"), 2);
  assert.equal(put(st, "a", "2"), 3);
  assert.deepEqual(show(st.range(b("a")).kvs[0]), {
    key: "a",
    create: 2,
    mod: 3,
    ver: 2,
    value: "2",
    lease: 0n,
  });
  assert.equal(del(st, "a"), 1);
  assert.equal(st.rev(), 4);
  assert.deepEqual(st.range(b("a")).kvs, []);
  // Deleting nothing makes no revision.
  assert.equal(del(st, "a"), 0);
  assert.equal(st.rev(), 4);
  // A new generation: created again, version restarts.
  put(st, "a", "3");
  assert.deepEqual(show(st.range(b("a")).kvs[0]), {
    key: "a",
    create: 5,
    mod: 5,
    ver: 1,
    value: "3",
    lease: 0n,
  });
  // History at every revision.
  assert.deepEqual(keysAt(st, 1), []);
  assert.deepEqual(keysAt(st, 2), ["a=1"]);
  assert.deepEqual(keysAt(st, 3), ["a=2"]);
  assert.deepEqual(keysAt(st, 4), []);
  assert.deepEqual(keysAt(st, 5), ["a=3"]);
  assert.deepEqual(show(st.range(b("a"), undefined, { rev: 3 }).kvs[0])?.create, 2);
  assert.equal(st.range(b("a"), undefined, { rev: 3 }).rev, 5, "reports the current revision");
  assert.throws(() => st.range(b("a"), undefined, { rev: 6 }), /future revision/);
  st.close();
});

Deno.test("key ranges follow etcd: single, [key,end), from-key, everything, inverted", () => {
  const st = new MvccStore(":memory:");
  for (const k of ["a", "ab", "abc", "b", "c\xff", "d"]) put(st, k, k);
  const r = (key: Uint8Array, end?: Uint8Array) => st.range(key, end).kvs.map((kv) => s(kv.key));
  assert.deepEqual(r(b("ab")), ["ab"]);
  assert.deepEqual(r(b("ab"), new Uint8Array()), ["ab"]);
  assert.deepEqual(r(b("a"), b("b")), ["a", "ab", "abc"]);
  assert.deepEqual(r(b("ab"), ZERO), ["ab", "abc", "b", "c\xff", "d"]);
  assert.deepEqual(r(ZERO, ZERO), ["a", "ab", "abc", "b", "c\xff", "d"]);
  assert.deepEqual(r(b("b"), b("a")), []);
  assert.deepEqual(r(b("b"), b("b")), []);
  // Bytes compare unsigned, shorter first.
  const k1 = new Uint8Array([0x80]);
  const k2 = new Uint8Array([0x7f, 0xff]);
  const txn = st.write();
  txn.put(k1, b("x"), 0n);
  txn.put(k2, b("y"), 0n);
  txn.end();
  assert.deepEqual(
    st.range(new Uint8Array([0x7f]), new Uint8Array([0x81])).kvs.map((kv) => kv.key),
    [
      k2,
      k1,
    ],
  );
  st.close();
});

Deno.test("limit keeps count of the whole range; countOnly and keysOnly", () => {
  const st = new MvccStore(":memory:");
  for (const k of ["k1", "k2", "k3", "k4"]) put(st, k, "v" + k);
  const all = st.range(b("k"), b("l"), { limit: 2 });
  assert.deepEqual(all.kvs.map((kv) => s(kv.key)), ["k1", "k2"]);
  assert.equal(all.count, 4);
  assert.equal(st.range(b("k"), b("l"), { limit: 9 }).count, 4);
  assert.deepEqual(st.range(b("k"), b("l"), { countOnly: true }), { kvs: [], count: 4, rev: 5 });
  const ko = st.range(b("k1"), undefined, { keysOnly: true }).kvs[0];
  assert.equal(ko.value.length, 0);
  assert.equal(ko.version, 1);
  // Historic reads too.
  del(st, "k2");
  const old = st.range(b("k"), b("l"), { rev: 5, limit: 1 });
  assert.deepEqual([old.kvs.length, old.count], [1, 4]);
  assert.equal(st.range(b("k"), b("l"), { rev: 5, countOnly: true }).count, 4);
  assert.equal(st.range(b("k"), b("l"), { countOnly: true }).count, 3);
  st.close();
});

Deno.test("a write txn: one revision for all changes, reads see its own writes", () => {
  const st = new MvccStore(":memory:");
  put(st, "x", "0");
  const txn = st.write();
  assert.equal(txn.range(b("x")).rev, 2);
  txn.put(b("a"), b("1"), 0n);
  txn.put(b("b"), b("1"), 0n);
  const rr = txn.range(b("a"), b("c"));
  assert.deepEqual(rr.kvs.map((kv) => kv.modRevision), [3, 3]);
  assert.equal(rr.rev, 3);
  assert.deepEqual(txn.range(b("x"), undefined, { rev: 2 }).kvs.length, 1);
  assert.throws(() => txn.range(b("x"), undefined, { rev: 4 }), /future/);
  const gone = txn.deleteRange(b("x"), undefined);
  assert.deepEqual(gone.map(show), [show({ ...gone[0] })]);
  assert.equal(txn.changes(), 3);
  assert.throws(() => st.write(), /write txn is open/);
  const events = txn.end();
  assert.equal(events.length, 3);
  assert.equal(st.rev(), 3);
  assert.deepEqual(keysAt(st), ["a=1", "b=1"]);
  assert.deepEqual(keysAt(st, 2), ["x=0"]);
  // A txn that changes nothing makes no revision.
  const t2 = st.write();
  t2.deleteRange(b("nothing"), undefined);
  t2.end();
  assert.equal(st.rev(), 3);
  st.close();
});

Deno.test("lease IDs keep all 64 bits; leasedKeys lists attached keys", () => {
  const st = new MvccStore(":memory:");
  const big = 0x7fff_ffff_ffff_fff1n;
  put(st, "a", "1", big);
  put(st, "b", "1", -5n);
  put(st, "c", "1");
  assert.equal(st.range(b("a")).kvs[0].lease, big);
  assert.equal(st.range(b("b")).kvs[0].lease, -5n);
  assert.equal(st.range(b("c")).kvs[0].lease, 0n);
  assert.deepEqual(st.leasedKeys().map((x) => [s(x.key), x.lease]), [["a", big], ["b", -5n]]);
  st.close();
});

Deno.test("ending a txn twice or using it after end fails", () => {
  const st = new MvccStore(":memory:");
  const txn = st.write();
  txn.end();
  assert.throws(() => txn.end(), /already ended/);
  assert.throws(() => txn.put(b("a"), b("1"), 0n), /already ended/);
  st.close();
});
