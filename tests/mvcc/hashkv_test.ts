// HashKV byte for byte as etcd 3.4 computes it: revision keys and stored KeyValues pinned to
// the bytes etcd's Go code writes, and the hashes of a fabricated history pinned to what etcd
// 3.4's own mvcc store answers for it (testdata/hashkv_oracle.go replays
// testdata/hashkv_history.json on it; see that file to recompute them).
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MvccStore, revisionKey, storedKeyValue } from "../../src/mvcc/mod.ts";
import { b } from "../helpers/mvcc.ts";

const hex = (u: Uint8Array) => Array.from(u, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("revision keys: big-endian main, '_', big-endian sub, and 't' after a deletion's", () => {
  assert.equal(hex(revisionKey(2, 0, false)), "00000000000000025f0000000000000000");
  assert.equal(hex(revisionKey(5, 2, true)), "00000000000000055f000000000000000274");
  assert.equal(hex(revisionKey(2 ** 40 + 3, 258, false)), "00000100000000035f0000000000000102");
});

Deno.test("stored KeyValues: gogo-protobuf's bytes; a deletion stores only its key", () => {
  const kv = (over: Record<string, unknown>) => ({
    key: b("foo"),
    createRevision: 2,
    modRevision: 2,
    version: 1,
    value: b("bar"),
    lease: 0n,
    ...over,
  });
  // The hex strings are Go's mvccpb.KeyValue.Marshal output for the same fields.
  assert.equal(hex(storedKeyValue(kv({}))), "0a03666f6f1002180220012a03626172");
  assert.equal(
    hex(
      storedKeyValue(
        kv({ modRevision: 300, version: 2, value: b("baz"), lease: 7587862234567813650n }),
      ),
    ),
    "0a03666f6f100218ac0220022a0362617a3092d490c08090e0a669",
  );
  assert.equal(
    hex(storedKeyValue(kv({ createRevision: 0, modRevision: 7, version: 0, value: b("") }))),
    "0a03666f6f",
  );
  const empty = { key: b("k"), createRevision: 5, modRevision: 5, version: 1, value: b("") };
  assert.equal(hex(storedKeyValue(kv(empty))), "0a016b100518052001");
});

// etcd 3.4's answers (hashkv_oracle.go): "rev hash compactRev currentRev" or "rev error".
const ETCD_ANSWERS = `
0 302554647 -1 8
1 1084519789 -1 8
2 2587454935 -1 8
3 2143169314 -1 8
4 743505148 -1 8
5 816038632 -1 8
6 322030335 -1 8
7 3838196111 -1 8
8 302554647 -1 8
0 3975164160 6 8
6 mvcc: required revision has been compacted
7 2885899393 6 8
8 3975164160 6 8
9 mvcc: required revision is a future revision
0 2790635883 6 9
7 2885899393 6 9
8 3975164160 6 9
9 2790635883 6 9
0 940602142 6 10
9 2790635883 6 10
10 940602142 6 10
0 1084519789 10 10
10 mvcc: required revision has been compacted
11 mvcc: required revision is a future revision
0 1026730784 10 11
11 1026730784 10 11`.trim().split("\n");

type Step =
  | { txn: ({ put: string[] } | { del: string[] })[] }
  | { compact: number }
  | { hash: number[] };

const HISTORY: Step[] = JSON.parse(
  await Deno.readTextFile(new URL("./testdata/hashkv_history.json", import.meta.url)),
);

// Applies `steps` to `st` and returns its answers in the oracle's format. `settle` finishes
// physical compaction before hashing; without it nothing is removed at all.
async function replay(st: MvccStore, steps: Step[], settle: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const step of steps) {
    if ("txn" in step) {
      const txn = st.write();
      for (const op of step.txn) {
        if ("put" in op) txn.put(b(op.put[0]), b(op.put[1]), BigInt(op.put[2] ?? 0));
        else txn.deleteRange(b(op.del[0]), op.del[1] === undefined ? undefined : b(op.del[1]));
      }
      txn.end();
    } else if ("compact" in step) {
      const done = st.compact(step.compact);
      if (settle) {
        while (!st.compactStep(2));
        await done;
      }
    } else {
      for (const rev of step.hash) out.push(answer(st, rev));
    }
  }
  return out;
}

function answer(st: MvccStore, rev: number): string {
  try {
    const h = st.hashKV(rev);
    return `${rev} ${h.hash} ${h.compactRevision} ${h.rev}`;
  } catch (e) {
    // Our errors carry the gRPC status text, etcd's mvcc errors are that text after "etcdserver: ".
    return `${rev} ${(e as Error).message.replace(/^etcdserver: /, "")}`;
  }
}

Deno.test("HashKV over a fabricated history equals etcd 3.4's, at every revision", async () => {
  for (const settle of [true, false]) {
    const st = new MvccStore(":memory:", { autoCompact: false });
    assert.deepEqual(await replay(st, HISTORY, settle), ETCD_ANSWERS, `settled: ${settle}`);
    st.close();
  }
});

Deno.test("a schema 1 backend (no sub revisions) gets them on open and hashes as etcd", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hashkv-schema1-" });
  const path = `${dir}/db`;
  try {
    const firstCompaction = HISTORY.findIndex((s) => "compact" in s);
    const st = new MvccStore(path, { autoCompact: false });
    const before = await replay(st, HISTORY.slice(0, firstCompaction), true);
    st.commit();
    st.close();
    // The file as schema 1 left it: no sub column.
    const db = new DatabaseSync(path);
    db.exec("ALTER TABLE rev DROP COLUMN sub");
    db.exec("UPDATE meta SET value = 1 WHERE name = 'schema_version'");
    db.close();
    const reopened = new MvccStore(path, { autoCompact: false });
    const hashedFirst = HISTORY.find((s) => "hash" in s)!;
    assert.deepEqual(await replay(reopened, [hashedFirst], true), before);
    const after = await replay(reopened, HISTORY.slice(firstCompaction), true);
    assert.deepEqual([...before, ...after], ETCD_ANSWERS);
    reopened.commit();
    reopened.close();
    // The current schema now: opening again migrates nothing and changes nothing.
    const again = new MvccStore(path, { autoCompact: false });
    assert.equal(answer(again, 11), ETCD_ANSWERS.at(-1));
    again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
