import assert from "node:assert/strict";
import { MvccStore } from "../../src/mvcc/mod.ts";
import { b, keysAt, put } from "../helpers/mvcc.ts";
import { withTempDir } from "../helpers/tmp.ts";

Deno.test(
  "the consistent index is persisted with exactly the changes committed with it",
  withTempDir((dir) => {
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
  withTempDir(async (dir) => {
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
  "commit refuses to run inside a write txn; close drops the open batch",
  withTempDir((dir) => {
    const st = new MvccStore(`${dir}/db`);
    const txn = st.write();
    assert.throws(() => st.commit(), /write txn is open/);
    txn.end();
    st.close();
  }),
);
