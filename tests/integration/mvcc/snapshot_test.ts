// A backend snapshot restored into an equal store. Here rather than in tests/mvcc/ because the
// snapshot is an SQLite ATTACH, which Deno's node:sqlite allows only with every permission.
import assert from "node:assert/strict";
import { MvccStore, restoreSnapshot } from "../../../src/mvcc/mod.ts";
import { b, put } from "../../helpers/mvcc.ts";
import { withTempDir } from "../../helpers/tmp.ts";

Deno.test(
  "snapshot bytes restore into an equal store; defrag and sizes",
  withTempDir((dir) => {
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
