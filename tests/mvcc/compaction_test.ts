import assert from "node:assert/strict";
import { MvccStore } from "../../src/mvcc/mod.ts";
import { b, del, keysAt, put } from "../helpers/mvcc.ts";
import { tempDir } from "../helpers/tmp.ts";

const rows = (st: MvccStore) => st.revisionCount();

Deno.test("logical compaction: reads below fail, at and above it answer as before", async () => {
  const st = new MvccStore(":memory:", { autoCompact: false });
  put(st, "a", "1"); // 2
  put(st, "a", "2"); // 3
  put(st, "b", "1"); // 4
  del(st, "b"); // 5
  put(st, "c", "1"); // 6
  const before = [4, 5, 6].map((r) => keysAt(st, r));
  const done = st.compact(4);
  assert.equal(st.compactRevision(), 4);
  assert.throws(() => st.range(b("a"), undefined, { rev: 3 }), /has been compacted/);
  assert.deepEqual([4, 5, 6].map((r) => keysAt(st, r)), before);
  assert.throws(() => st.compact(4), /has been compacted/);
  assert.throws(() => st.compact(3), /has been compacted/);
  assert.throws(() => st.compact(7), /future revision/);
  while (!st.compactStep(1)) { /* one row at a time */ }
  await done;
  assert.deepEqual([4, 5, 6].map((r) => keysAt(st, r)), before);
  // Kept: a@3 (latest of a at 4), b@4, b@5 (tombstone above 4), c@6. Gone: a@2.
  assert.equal(rows(st), 4);
  assert.throws(() => st.eventsBetween(b("a"), undefined, 3, 6), /has been compacted/);
  st.close();
});

Deno.test("compaction at a tombstone removes the key's history entirely", async () => {
  const st = new MvccStore(":memory:", { autoCompact: false });
  put(st, "a", "1");
  put(st, "a", "2");
  del(st, "a"); // 4
  put(st, "z", "1"); // 5
  const done = st.compact(4);
  st.compactStep();
  await done;
  assert.equal(rows(st), 1);
  assert.deepEqual(keysAt(st, 4), []);
  assert.deepEqual(keysAt(st), ["z=1"]);
  // Revision stays even when its row is gone.
  const st2 = new MvccStore(":memory:", { autoCompact: false });
  put(st2, "a", "1");
  del(st2, "a");
  const d2 = st2.compact(3);
  st2.compactStep();
  await d2;
  assert.equal(rows(st2), 0);
  assert.equal(st2.rev(), 3);
  st.close();
  st2.close();
});

Deno.test("compaction runs in the background in batches and resolves when done", async () => {
  const st = new MvccStore(":memory:", { compactionBatch: 7, compactionPauseMs: 0 });
  for (let i = 0; i < 200; i++) put(st, `k${i % 10}`, `${i}`);
  const want = keysAt(st);
  const done = st.compact(150);
  await done;
  assert.equal(rows(st), 10 + 51); // latest of each key at 150, and revisions 151..201
  assert.deepEqual(keysAt(st), want);
  // A newer compaction supersedes: the store ends at the newest target.
  const d1 = st.compact(180);
  const d2 = st.compact(201);
  await Promise.all([d1, d2]);
  assert.equal(rows(st), 10);
  st.close();
});

Deno.test("an interrupted physical compaction resumes after reopen", async () => {
  await using tmp = tempDir();
  const dir = tmp.path;
  const path = `${dir}/db`;
  let st = new MvccStore(path, { autoCompact: false });
  for (let i = 0; i < 50; i++) put(st, `k${i % 5}`, `${i}`);
  void st.compact(40);
  st.compactStep(3); // partly done
  st.setConsistentIndex(7);
  st.commit();
  st.close();
  st = new MvccStore(path, { compactionPauseMs: 0, compactionBatch: 4 });
  assert.equal(st.compactRevision(), 40);
  await st.physicalCompaction(); // resumed on open, in batches of 4
  assert.equal(rows(st), 5 + 11);
  st.commit();
  st.close();
});

Deno.test("a key changed twice in one revision compacts to its last change", async () => {
  const st = new MvccStore(":memory:", { autoCompact: false });
  put(st, "b", "0"); // 2
  let txn = st.write(); // 3: put b, then a from-key delete that removes it again
  txn.put(b("b"), b("1"), 0n);
  txn.deleteRange(b("a"), new Uint8Array([0]));
  txn.end();
  txn = st.write(); // 4: delete, then create again
  txn.put(b("c"), b("1"), 0n);
  txn.end();
  txn = st.write(); // 5
  txn.deleteRange(b("c"));
  txn.put(b("c"), b("2"), 0n);
  txn.end();
  const history = st.eventsBetween(b("b"), undefined, 3, 3).events;
  assert.deepEqual(history.map((e) => [e.type, e.prevKv?.modRevision]), [[0, 2], [1, 3]]);
  const done = st.compact(5);
  st.compactStep();
  await done;
  assert.deepEqual(keysAt(st), ["c=2"]);
  assert.equal(rows(st), 1);
  st.close();
});

// Found by the soak (tests/robustness/run): a watch from just above a compaction searched the
// row ids forever when the rows below the first one left were gone.
Deno.test("history and a second compaction read across the gaps a compaction leaves", async () => {
  const st = new MvccStore(":memory:", { autoCompact: false });
  for (let i = 0; i < 20; i++) put(st, "a", `${i}`); // revisions 2..21
  put(st, "b", "x"); // 22
  let done = st.compact(21);
  while (!st.compactStep()) { /* to the end */ }
  await done;
  assert.equal(rows(st), 2); // a@21 and b@22; the ids of a@2..20 are gone
  const events = (from: number) =>
    st.eventsBetween(b("a"), b("c"), from, 22).events.map((e) => e.kv.modRevision);
  assert.deepEqual(events(21), [21, 22]);
  assert.deepEqual(events(22), [22]);
  put(st, "a", "last"); // 23
  done = st.compact(23);
  while (!st.compactStep()) { /* to the end */ }
  await done;
  assert.deepEqual(keysAt(st), ["a=last", "b=x"]);
  assert.equal(rows(st), 2); // a@21 went too
  st.close();
});

Deno.test("the batch limit: full batches of that many revisions, then the one that ends it", async () => {
  // As etcd's scheduleCompaction: a job over N revisions with limit L runs floor(N/L) full
  // batches (etcd observes a pause after each) and ends with the first batch short of L.
  for (const [writes, limit] of [[25, 10], [30, 10], [9, 10], [25, 1000], [25, 1]]) {
    const seen: { deleted: number; finished: boolean }[] = [];
    const st = new MvccStore(":memory:", {
      compactionPauseMs: 0,
      onCompactionBatch: (batch) => seen.push({ deleted: batch.deleted, finished: batch.finished }),
    });
    st.compactionBatchLimit = limit;
    for (let i = 0; i < writes; i++) put(st, "k", `${i}`); // revisions 2..writes+1
    await st.compact(writes + 1);
    const full = Math.floor(writes / limit);
    assert.deepEqual(
      seen.map((s) => s.finished),
      [...Array(full).fill(false), true],
      `${writes} writes, limit ${limit}`,
    );
    // Every revision but the last of the one key goes, whatever the batches.
    assert.equal(seen.reduce((n, s) => n + s.deleted, 0), writes - 1);
    assert.equal(rows(st), 1);
    st.close();
  }
});

Deno.test("a batch limit of 0 or less means etcd's default of 1000", async () => {
  const batches: number[] = [];
  const st = new MvccStore(":memory:", {
    compactionPauseMs: 0,
    onCompactionBatch: (batch) => batches.push(batch.deleted),
  });
  st.compactionBatchLimit = 0;
  for (let i = 0; i < 1500; i++) put(st, `k${i % 3}`, `${i}`);
  await st.compact(1501);
  assert.deepEqual(batches, [1000, 497]);
  st.close();
});
