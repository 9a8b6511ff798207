import assert from "node:assert/strict";
import { MvccStore, restoreSnapshot } from "../../src/mvcc/mod.ts";
import { b, keysAt, put } from "../helpers/mvcc.ts";

function withDir(f: (dir: string) => void | Promise<void>) {
  return async () => {
    const dir = Deno.makeTempDirSync();
    try {
      await f(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

Deno.test(
  "the consistent index is persisted with exactly the changes committed with it",
  withDir((dir) => {
    const path = `${dir}/db`;
    let st = new MvccStore(path);
    put(st, "a", "1");
    st.setConsistentIndex(10);
    put(st, "b", "1");
    st.setConsistentIndex(11);
    st.commit();
    put(st, "c", "1");
    st.setConsistentIndex(12);
    assert.equal(st.consistentIndex(), 12);
    st.close(); // a crash: the last batch was never committed
    st = new MvccStore(path);
    assert.equal(st.consistentIndex(), 11);
    assert.equal(st.rev(), 3);
    assert.deepEqual(keysAt(st), ["a=1", "b=1"]);
    // Replaying entry 12 gives the same revision as before.
    assert.equal(put(st, "c", "1"), 4);
    // Entries that change no key still move the index.
    st.setConsistentIndex(13);
    st.commit({ sync: true });
    st.setConsistentIndex(14);
    st.commit();
    st.close();
    st = new MvccStore(path);
    assert.equal(st.consistentIndex(), 14);
    assert.deepEqual(keysAt(st), ["a=1", "b=1", "c=1"]);
    st.close();
  }),
);

Deno.test(
  "revision and compaction survive reopen even when their rows are gone",
  withDir(async (dir) => {
    const path = `${dir}/db`;
    let st = new MvccStore(path, { autoCompact: false });
    put(st, "a", "1");
    const txn = st.write();
    txn.deleteRange(b("a"));
    txn.end();
    const done = st.compact(3);
    st.compactStep();
    await done;
    st.commit();
    st.close();
    st = new MvccStore(path);
    assert.equal(st.rev(), 3);
    assert.equal(st.compactRevision(), 3);
    assert.equal(put(st, "a", "2"), 4);
    st.close();
  }),
);

Deno.test(
  "snapshot bytes restore into an equal store; defrag and sizes",
  withDir((dir) => {
    const st = new MvccStore(`${dir}/db`);
    for (let i = 0; i < 300; i++) put(st, `k${i}`, "x".repeat(200));
    st.setConsistentIndex(300);
    const txn = st.write();
    txn.deleteRange(b("k"), b("l"));
    txn.end();
    st.setConsistentIndex(301);
    const snap = st.snapshotBytes();
    assert.equal(st.pendingCommit(), false, "snapshot commits first");
    restoreSnapshot(`${dir}/copy`, snap);
    const copy = new MvccStore(`${dir}/copy`);
    assert.equal(copy.consistentIndex(), 301);
    assert.equal(copy.rev(), st.rev());
    assert.deepEqual(copy.hashKV(0), st.hashKV(0));
    assert.equal(copy.hash(), st.hash());
    copy.close();
    assert.ok(st.dbSize() >= st.dbSizeInUse());
    assert.ok(st.dbSizeInUse() > 0);
    st.compact(st.rev());
    st.compactStep(10_000);
    st.commit();
    const before = st.dbSize();
    assert.ok(st.dbSizeInUse() < before, "compaction frees pages");
    st.defrag();
    assert.ok(st.dbSize() < before);
    assert.equal(st.dbSize(), st.dbSizeInUse());
    st.close();
  }),
);

Deno.test(
  "commit refuses to run inside a write txn; close drops the open batch",
  withDir((dir) => {
    const st = new MvccStore(`${dir}/db`);
    const txn = st.write();
    assert.throws(() => st.commit(), /write txn is open/);
    txn.end();
    st.close();
  }),
);
