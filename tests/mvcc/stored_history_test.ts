// The stored history read out page by page (a consistent read while writes and compaction go
// on) and loaded into an empty store, which then answers as the original does.
import assert from "node:assert/strict";
import fc from "fast-check";
import { MvccStore, parseRevisionKey, revisionKey, type StoredChange } from "../../src/mvcc/mod.ts";
import { b, del, keysAt, put, show } from "../helpers/mvcc.ts";

function readAll(st: MvccStore, page = 3): { changes: StoredChange[]; rev: number } {
  using cursor = st.openHistory();
  const changes: StoredChange[] = [];
  for (let got = cursor.next(page); got.length > 0; got = cursor.next(page)) changes.push(...got);
  return { changes, rev: cursor.point.rev };
}

const brief = (c: StoredChange) => `${c.main}_${c.sub} ${show(c.kv)?.key}=${show(c.kv)?.value}`;

Deno.test("history cursor: pages read while writes and compaction go on are the history at open", async () => {
  const st = new MvccStore(":memory:", { autoCompact: false });
  put(st, "a", "1");
  put(st, "a", "2");
  put(st, "b", "1");
  del(st, "b");
  const done = st.compact(4);
  const before = readAll(st, 100).changes.map(brief);
  const cursor = st.openHistory();
  assert.equal(cursor.point.rev, 5);
  assert.equal(cursor.point.compactRev, 4);
  const seen = cursor.next(2);
  put(st, "c", "1"); // 6: after the cursor opened
  del(st, "a");
  // Compaction waits for the cursor: nothing it would remove is gone.
  assert.equal(st.compactStep(), false);
  assert.equal(st.revisionCount(), 6);
  for (let got = cursor.next(2); got.length > 0; got = cursor.next(2)) seen.push(...got);
  assert.deepEqual(seen.map(brief), before);
  assert.equal(seen.at(-1)!.kv.version, 0, "b's deletion is the last change at 5");
  cursor.close();
  while (!st.compactStep()) { /* now it runs */ }
  await done;
  assert.ok(st.revisionCount() < 6);
  assert.throws(() => cursor.next(1), /read after close/);
  st.close();
});

Deno.test("history load: a store filled from another's history answers as it does", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(fc.constantFrom("put", "del", "txn"), fc.constantFrom("a", "b", "c"), fc.nat(9)),
        { minLength: 1, maxLength: 25 },
      ),
      fc.nat(30),
      (ops, compactAt) => {
        const src = new MvccStore(":memory:", { autoCompact: false });
        for (const [op, key, n] of ops) {
          if (op === "put") put(src, key, String(n), BigInt(n));
          else if (op === "del") del(src, key);
          else {
            const txn = src.write();
            txn.put(b(key), b(`x${n}`), 0n);
            txn.put(b(key + key), b(`y${n}`), 0n);
            txn.deleteRange(b("c"));
            txn.end();
          }
        }
        if (compactAt > 1 && compactAt < src.rev()) {
          void src.compact(compactAt);
          while (!src.compactStep()) { /* whole */ }
        }
        const { changes, rev } = readAll(src);
        const dst = new MvccStore(":memory:", { autoCompact: false });
        dst.loadHistory(changes, src.compactRevision(), src.compactRevision());
        assert.equal(dst.rev(), rev);
        for (let r = Math.max(src.compactRevision(), 1); r <= rev; r++) {
          assert.deepEqual(keysAt(dst, r), keysAt(src, r), `at ${r}`);
        }
        assert.deepEqual(dst.hashKV(0), src.hashKV(0));
        // Writes continue from there alike.
        put(src, "a", "next");
        put(dst, "a", "next");
        const get = (st: MvccStore) => show(st.range(b("a")).kvs[0]);
        assert.deepEqual(get(dst), get(src));
        src.close();
        dst.close();
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("history load: changes out of revision order are refused", () => {
  const st = new MvccStore(":memory:", { autoCompact: false });
  const kv = (main: number) => ({
    key: b("k"),
    createRevision: main,
    modRevision: main,
    version: 1,
    value: b("v"),
    lease: 0n,
  });
  assert.throws(
    () => st.loadHistory([{ main: 3, sub: 0, kv: kv(3) }, { main: 2, sub: 0, kv: kv(2) }], -1, -1),
    /revision 2_0 follows 3_0/,
  );
  st.close();
});

Deno.test("revision keys parse back; other keys are refused", () => {
  for (const [main, sub, t] of [[2, 0, false], [2 ** 40 + 3, 258, true]] as const) {
    assert.deepEqual(parseRevisionKey(revisionKey(main, sub, t)), { main, sub, tombstone: t });
  }
  assert.throws(() => parseRevisionKey(b("foo")), /not a revision key/);
  assert.throws(() => parseRevisionKey(new Uint8Array(18)), /not a revision key/);
});
