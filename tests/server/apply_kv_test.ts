import assert from "node:assert/strict";
import { type KeyValue, MvccStore } from "../../src/mvcc/mod.ts";
import {
  applyCompaction,
  applyDeleteRange,
  applyPut,
  applyRange,
} from "../../src/server/apply/kv.ts";
import { applyTxn } from "../../src/server/apply/txn.ts";
import type {
  KvApplyContext,
  RangeResponse,
  ResponseOp,
  TxnResponse,
} from "../../src/server/kv_types.ts";
import {
  validateDeleteRange,
  validatePut,
  validateRange,
  validateTxn,
} from "../../src/server/kv_validate.ts";
import { toEtcdError } from "../../src/api/errors.ts";
import { b, RANGE_CASES, SETUP, TXN_CASES } from "./apply_kv_cases.ts";

const dec = new TextDecoder();

/** Runs `fn`, rethrowing its error as etcd's clients see it. */
const seen = (fn: () => unknown) => () => {
  try {
    fn();
  } catch (err) {
    throw toEtcdError(err);
  }
};
const kvStr = (kv: KeyValue) =>
  kv.value.length ? `${dec.decode(kv.key)}=${dec.decode(kv.value)}` : dec.decode(kv.key);

function fakeLeases(known: bigint[] = []) {
  const log: string[] = [];
  return {
    log,
    leaseExists: (id: bigint) => known.includes(id),
    attachLease: (id: bigint, key: Uint8Array) => log.push(`attach ${id} ${dec.decode(key)}`),
    detachLease: (id: bigint, key: Uint8Array) => log.push(`detach ${id} ${dec.decode(key)}`),
  };
}

function setup(
  known: bigint[] = [],
  watchersWantPrevKv = () => false,
): KvApplyContext & { log: string[] } {
  const store = new MvccStore(":memory:", { autoCompact: false });
  const leases = fakeLeases(known);
  const ctx = { store, leases, log: leases.log, watchersWantPrevKv };
  for (const [k, v] of SETUP) {
    if (v === null) applyDeleteRange(ctx, { key: b(k) });
    else applyPut(ctx, { key: b(k), value: b(v) });
  }
  return ctx;
}

const showRange = (r: RangeResponse) => ({
  rev: r.header.revision,
  kvs: r.kvs.map(kvStr),
  count: r.count,
  more: r.more,
});

function showOp(op: ResponseOp): unknown {
  if (op.responseRange) return { range: showRange(op.responseRange) };
  if (op.responsePut) {
    const p = op.responsePut;
    return p.prevKv
      ? { put: { rev: p.header.revision, prevKv: kvStr(p.prevKv) } }
      : { put: { rev: p.header.revision } };
  }
  if (op.responseDeleteRange) {
    const d = op.responseDeleteRange;
    return {
      delete: { rev: d.header.revision, deleted: d.deleted, prevKvs: d.prevKvs.map(kvStr) },
    };
  }
  if (op.responseTxn) return { txn: showTxn(op.responseTxn) };
  return {};
}

const showTxn = (t: TxnResponse) => ({
  rev: t.header.revision,
  succeeded: t.succeeded,
  responses: t.responses.map(showOp),
});

Deno.test("Range: every option, as etcd answers", async (t) => {
  const ctx = setup();
  assert.equal(ctx.store.rev(), 9);
  for (const c of RANGE_CASES) {
    await t.step(c.name, () => {
      if (typeof c.want === "string") {
        assert.throws(seen(() => applyRange(ctx, c.req)), new RegExp(c.want));
        return;
      }
      const { rev, ...got } = showRange(applyRange(ctx, c.req));
      assert.equal(rev, 9);
      assert.deepEqual(got, c.want);
    });
  }
  // Compaction: reads below the compaction revision fail, at it they work.
  void applyCompaction(ctx, { revision: 5 });
  assert.throws(() => applyRange(ctx, { key: b("k1"), revision: 4 }), /has been compacted/);
  assert.deepEqual(showRange(applyRange(ctx, { key: b("k1"), revision: 5 })).kvs, ["k1=vk1"]);
  ctx.store.close();
});

Deno.test("Txn: compares, branches, nesting, revisions and errors, as etcd answers", async (t) => {
  const ctx = setup();
  for (const c of TXN_CASES) {
    await t.step(c.name, () => {
      const before = ctx.store.rev();
      if (typeof c.want === "string") {
        assert.throws(seen(() => applyTxn(ctx, c.req)), new RegExp(c.want));
        assert.equal(ctx.store.rev(), before, "a failed txn changes nothing");
        return;
      }
      assert.deepEqual(showTxn(applyTxn(ctx, c.req)), c.want);
    });
  }
  assert.deepEqual(showRange(applyRange(ctx, { key: b("k2") })).kvs, ["k2=zz"]);
  assert.equal(applyRange(ctx, { key: b("k2") }).kvs[0].version, 3);
  ctx.store.close();
});

Deno.test("Put: prev_kv, ignore_value, ignore_lease, leases and their errors", () => {
  const ctx = setup([7n, 8n]);
  const put = (req: Parameters<typeof applyPut>[1]) => applyPut(ctx, req);
  assert.deepEqual(put({ key: b("n"), value: b("1"), prevKv: true }), { header: { revision: 10 } });
  const r = put({ key: b("n"), value: b("2"), prevKv: true, lease: 7n });
  assert.equal(r.header.revision, 11);
  assert.equal(kvStr(r.prevKv!), "n=1");
  assert.deepEqual(ctx.log, ["attach 7 n"]);
  // ignore_value keeps the value, the lease is replaced.
  put({ key: b("n"), ignoreValue: true, lease: 8n });
  let kv = applyRange(ctx, { key: b("n") }).kvs[0];
  assert.deepEqual([kvStr(kv), kv.lease, kv.version], ["n=2", 8n, 3]);
  assert.deepEqual(ctx.log, ["attach 7 n", "detach 7 n", "attach 8 n"]);
  // ignore_lease keeps the lease.
  put({ key: b("n"), value: b("3"), ignoreLease: true });
  kv = applyRange(ctx, { key: b("n") }).kvs[0];
  assert.deepEqual([kvStr(kv), kv.lease], ["n=3", 8n]);
  // A plain put drops the lease.
  put({ key: b("n"), value: b("4") });
  assert.equal(applyRange(ctx, { key: b("n") }).kvs[0].lease, 0n);
  assert.deepEqual(ctx.log.slice(3), ["detach 8 n", "attach 8 n", "detach 8 n"]);
  const rev = ctx.store.rev();
  assert.throws(() => put({ key: b("missing"), ignoreValue: true }), /etcdserver: key not found/);
  assert.throws(() => put({ key: b("missing"), ignoreLease: true }), /etcdserver: key not found/);
  // Top-level puts check the lease first (a txn checks the key first).
  assert.throws(
    seen(() => put({ key: b("missing"), ignoreValue: true, lease: 99n })),
    /requested lease not found/,
  );
  assert.equal(ctx.store.rev(), rev);
  ctx.store.close();
});

Deno.test("Put: events carry the replaced kv only when a watcher or the request wants it", () => {
  let watchersWant = false;
  const ctx = setup([], () => watchersWant);
  const prevOf: (string | undefined)[] = [];
  ctx.store.onEvents((evs) => evs.forEach((e) => prevOf.push(e.prevKv && kvStr(e.prevKv))));
  applyPut(ctx, { key: b("w"), value: b("1") });
  applyPut(ctx, { key: b("w"), value: b("2") });
  applyPut(ctx, { key: b("w"), value: b("3"), prevKv: true });
  watchersWant = true;
  applyPut(ctx, { key: b("w"), value: b("4") });
  assert.deepEqual(prevOf, [undefined, undefined, "w=2", "w=3"]);
  // The response still reports the key's version and lease without reading the old value.
  const r = applyRange(ctx, { key: b("w") });
  assert.deepEqual([r.kvs[0].version, r.kvs[0].createRevision], [4, 10]);
});

Deno.test("DeleteRange: counts, prev_kvs, ranges, lease detach, no revision when empty", () => {
  const ctx = setup([7n]);
  applyPut(ctx, { key: b("k5"), value: b("x"), lease: 7n });
  assert.deepEqual(applyDeleteRange(ctx, { key: b("nothing"), prevKv: true }), {
    header: { revision: 10 },
    deleted: 0,
    prevKvs: [],
  });
  const d = applyDeleteRange(ctx, { key: b("k2"), rangeEnd: b("k6"), prevKv: true });
  assert.deepEqual([d.header.revision, d.deleted, d.prevKvs.map(kvStr)], [11, 3, [
    "k2=zz",
    "k3=vk3",
    "k5=x",
  ]]);
  assert.deepEqual(ctx.log, ["attach 7 k5", "detach 7 k5"]);
  const all = applyDeleteRange(ctx, { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
  assert.deepEqual([all.header.revision, all.deleted, all.prevKvs], [12, 3, []]);
  assert.equal(
    applyRange(ctx, { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }).count,
    0,
  );
  ctx.store.close();
});

Deno.test("Compact: compacted and future-revision errors; physical completion", async () => {
  const ctx = setup();
  assert.throws(() => applyCompaction(ctx, { revision: 10 }), /future revision/);
  const { physical, ...response } = applyCompaction(ctx, { revision: 0, physical: true });
  assert.deepEqual(response, { header: { revision: 9 } });
  ctx.store.compactStep();
  await physical;
  assert.throws(() => applyCompaction(ctx, { revision: 0 }), /has been compacted/);
  const c = applyCompaction(ctx, { revision: 7 });
  assert.throws(() => applyCompaction(ctx, { revision: 7 }), /has been compacted/);
  assert.throws(() => applyCompaction(ctx, { revision: 6 }), /has been compacted/);
  ctx.store.compactStep();
  await c.physical;
  assert.equal(ctx.store.compactRevision(), 7);
  ctx.store.close();
});

Deno.test("pre-proposal checks: empty keys, ignore_* with values", () => {
  assert.throws(() => validateRange({ key: new Uint8Array() }), /key is not provided/);
  assert.throws(() => validateDeleteRange({ key: new Uint8Array() }), /key is not provided/);
  assert.throws(() => validatePut({ key: new Uint8Array(), value: b("x") }), /key is not provided/);
  assert.throws(
    () => validatePut({ key: b("a"), value: b("x"), ignoreValue: true }),
    /value is provided/,
  );
  assert.throws(
    () => validatePut({ key: b("a"), lease: 5n, ignoreLease: true }),
    /lease is provided/,
  );
  // Value is checked before lease.
  assert.throws(
    () =>
      validatePut({ key: b("a"), value: b("x"), ignoreValue: true, lease: 5n, ignoreLease: true }),
    /value is provided/,
  );
  validatePut({ key: b("a"), ignoreValue: true, ignoreLease: true });
  validateRange({ key: b("a") });
});

const put = (k: string) => ({ requestPut: { key: b(k), value: b("v") } });
const del = (k: string, end?: string) => ({
  requestDeleteRange: { key: b(k), rangeEnd: end === undefined ? undefined : b(end) },
});
const puts = (n: number, p: string) => Array.from({ length: n }, (_, i) => put(`${p}${i}`));

Deno.test("validateTxn: op limits (nested txns get what the parent leaves), empty ops", () => {
  validateTxn({ success: puts(128, "a") }, 128);
  assert.throws(() => validateTxn({ success: puts(129, "a") }, 128), /too many operations/);
  assert.throws(() => validateTxn({ failure: puts(3, "a") }, 2), /too many operations/);
  const cmp = { key: b("a") };
  assert.throws(() => validateTxn({ compare: [cmp, cmp, cmp] }, 2), /too many operations/);
  validateTxn({ success: [...puts(99, "a"), { requestTxn: { success: puts(28, "n") } }] }, 128);
  assert.throws(
    () =>
      validateTxn({ success: [...puts(99, "a"), { requestTxn: { success: puts(29, "n") } }] }, 128),
    /too many operations/,
  );
  assert.throws(() => validateTxn({ success: [{}] }, 128), /etcdserver: key not found/);
  assert.throws(
    () => validateTxn({ compare: [{ key: new Uint8Array() }] }, 128),
    /key is not provided/,
  );
  assert.throws(
    () =>
      validateTxn({
        success: [{ requestTxn: { failure: [{ requestRange: { key: new Uint8Array() } }] } }],
      }, 128),
    /key is not provided/,
  );
});

Deno.test("validateTxn: duplicate keys per branch, nested txns and overlapping deletes", () => {
  const ok = (success: object[]) => validateTxn({ success } as never, 128);
  const dup = (success: object[]) =>
    assert.throws(() => ok(success), /duplicate key given in txn request/);
  dup([put("a"), put("a")]);
  ok([put("a"), put("b")]);
  validateTxn({ success: [put("a")], failure: [put("a")] }, 128);
  dup([del("a"), put("a")]);
  dup([put("a"), del("a")]);
  dup([put("b"), del("a", "c")]);
  ok([put("c"), del("a", "c")]);
  ok([del("a"), del("a", "z")]);
  // A from-key delete's end ("\0") sorts before its key, so etcd sees no overlap.
  ok([del("x", "\0"), put("y")]);
  // Nested: either branch of one nested txn may put a key; two nested txns may not.
  ok([{ requestTxn: { success: [put("a")], failure: [put("a")] } }]);
  dup([{ requestTxn: { success: [put("a")] } }, { requestTxn: { success: [put("a")] } }]);
  dup([{ requestTxn: { success: [put("a")] } }, { requestTxn: { failure: [put("a")] } }]);
  dup([{ requestTxn: { success: [put("a")] } }, put("a")]);
  dup([del("a", "c"), { requestTxn: { failure: [put("b")] } }]);
  dup([{ requestTxn: { success: [del("a", "c")] } }, put("b")]);
  dup([{ requestTxn: { success: [del("b")] } }, { requestTxn: { success: [put("b")] } }]);
  dup([{ requestTxn: { success: [{ requestTxn: { success: [put("a")] } }] } }, put("a")]);
});
