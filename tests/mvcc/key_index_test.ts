// The in-memory key index: one key's revisions and etcd's compaction rules for them (the example
// in etcd's mvcc/key_index.go), and the ordered map of keys it lives in.
import assert from "node:assert/strict";
import { KeyIndex } from "../../src/mvcc/key_index.ts";
import { OrderedKeys } from "../../src/mvcc/ordered_keys.ts";
import { IdSet, TreeIndex } from "../../src/mvcc/tree_index.ts";
import { keyRange } from "../../src/mvcc/key_range.ts";
import { b } from "../helpers/mvcc.ts";
import { prng } from "../helpers/random.ts";

// etcd's example: put(1) put(2) tombstone(3) put(4) tombstone(5) on "foo"; row id = main * 10.
function foo(): KeyIndex {
  const ki = new KeyIndex("foo");
  ki.put(1, 10, 1, 1, 0n);
  ki.put(2, 20, 1, 2, 0n);
  ki.tombstone(3, 30);
  ki.put(4, 40, 4, 1, 7n);
  ki.tombstone(5, 50);
  return ki;
}

/** The revisions still held, as etcd writes them ("4.0", "5.0(t)"). */
function held(ki: KeyIndex): string[] {
  return ki.between(0, Infinity).map((id) => `${id / 10}.0${ki.at(id / 10) ? "" : "(t)"}`);
}

Deno.test("reads at each revision: a deletion ends a generation", () => {
  const ki = foo();
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((rev) => ki.at(rev)), [
    undefined,
    10,
    20,
    undefined,
    40,
    undefined,
    undefined,
  ]);
  assert.equal(ki.exists, false);
  assert.equal(ki.current(), undefined);
  assert.equal(ki.before(40), undefined, "before 4.0 comes the deletion 3.0");
  assert.equal(ki.before(30), 20);
  assert.equal(ki.before(10), undefined);
  assert.deepEqual(ki.between(2, 4), [20, 30, 40]);
});

Deno.test("compaction keeps the latest revision at or below it unless it is a deletion", () => {
  const cases: [number, number | undefined, string[]][] = [
    [1, 10, ["1.0", "2.0", "3.0(t)", "4.0", "5.0(t)"]],
    [2, 20, ["2.0", "3.0(t)", "4.0", "5.0(t)"]],
    [3, undefined, ["4.0", "5.0(t)"]],
    [4, 40, ["4.0", "5.0(t)"]],
    [5, undefined, []],
    [6, undefined, []],
  ];
  for (const [rev, kept, after] of cases) {
    const ki = foo();
    assert.equal(ki.at(rev), kept, `keep(${rev})`);
    assert.equal(ki.compact(rev), kept, `compact(${rev})`);
    assert.deepEqual(held(ki), after, `compact(${rev})`);
    assert.equal(ki.empty, after.length === 0);
  }
  // Compacting again at the same revision changes nothing.
  const ki = foo();
  ki.compact(2);
  assert.equal(ki.compact(2), 20);
  assert.deepEqual(held(ki), ["2.0", "3.0(t)", "4.0", "5.0(t)"]);
});

Deno.test("a revision older than the newest one is refused", () => {
  const ki = foo();
  assert.throws(() => ki.put(4, 45, 4, 1, 0n), /revision 4/);
  ki.put(6, 60, 6, 1, 0n);
  assert.deepEqual(ki.current(), {
    id: 60,
    createRevision: 6,
    modRevision: 6,
    version: 1,
    lease: 0n,
  });
});

Deno.test("the tree index: ranges and counts at a revision, compaction, leases", () => {
  const index = new TreeIndex();
  const put = (key: string, main: number, lease = 0n) =>
    index.put(index.entry(key), main, main, main, 1, lease);
  put("a", 1);
  put("b", 2, 5n);
  put("c", 3);
  index.tombstone(index.get("b")!, 4, 4);
  put("a", 5);
  const all = keyRange(b("a"), b("z"));
  const keysAt = (rev: number) => index.rangeAt(all, rev, 0).entries.map((e) => e.key);
  assert.deepEqual(keysAt(3), ["a", "b", "c"]);
  assert.deepEqual(keysAt(4), ["a", "c"]);
  assert.deepEqual(index.rangeAt(all, 3, 2).ids, [1, 2]);
  assert.equal(index.countAt(keyRange(b("b"), b("\0")), 3), 2);
  assert.equal(index.keyCount, 2);
  assert.deepEqual(index.leased(), []);
  put("b", 6, 9n);
  assert.deepEqual(index.leased(), [{ key: "b", lease: 9n }]);
  const kept = index.compact(4);
  assert.deepEqual([1, 2, 3, 4, 5, 6].filter((id) => kept.has(id)), [1, 3]);
  // b's deletion at 4 went with its put: only its new generation is left.
  assert.deepEqual(index.get("b")!.between(0, 10), [6]);
  const keep = index.keep(5);
  assert.deepEqual([1, 3, 5, 6].filter((id) => keep.rows.has(id)), [3, 5]);
  assert.equal(keep.found, true);
  index.tombstone(index.get("c")!, 7, 7);
  index.compact(7);
  assert.equal(index.get("c"), undefined, "a key whose last revision compacted is a deletion goes");
});

Deno.test("IdSet holds ids of any size, added in any order", () => {
  const set = new IdSet();
  for (const id of [2 ** 40 + 1, 7, 0, 1_000_003, 8, 9]) set.add(id);
  const probes = [0, 1, 7, 8, 9, 10, 1_000_002, 1_000_003, 2 ** 40, 2 ** 40 + 1, 2 ** 41];
  assert.deepEqual(probes.filter((id) => set.has(id)), [0, 7, 8, 9, 1_000_003, 2 ** 40 + 1]);
  set.add(10);
  assert.equal(set.has(10), true);
});

Deno.test("ordered keys match a sorted array through inserts, removals and compactions", () => {
  const rand = prng(7);
  const keys = new OrderedKeys<{ key: string }>();
  const model = new Set<string>();
  const randomKey = () =>
    String.fromCharCode(...Array.from({ length: 1 + Math.floor(rand() * 3) }, () => {
      return Math.floor(rand() * 40) * 6; // bytes spread over 0..234
    }));
  const sorted = () => [...model].sort();
  for (let step = 0; step < 20_000; step++) {
    const key = randomKey();
    if (rand() < 0.65) {
      if (!model.has(key)) [keys.insert({ key }), model.add(key)];
    } else {
      assert.equal(keys.delete(key), model.delete(key));
    }
    if (step % 997 === 0) {
      const [lo, hi] = [randomKey(), randomKey()].sort();
      const want = sorted().filter((k) => k >= lo && k < hi);
      assert.deepEqual([...keys.ascend(lo, hi)].map((e) => e.key), want);
      assert.deepEqual([...keys.ascend(lo)].map((e) => e.key), sorted().filter((k) => k >= lo));
    }
    if (step === 12_000) {
      keys.retain((e) => e.key.charCodeAt(0) % 12 !== 0);
      for (const k of [...model]) if (k.charCodeAt(0) % 12 === 0) model.delete(k);
    }
  }
  assert.equal(keys.size, model.size);
  assert.deepEqual([...keys.ascend("")].map((e) => e.key), sorted());
  for (const k of model) assert.equal(keys.get(k)?.key, k);
  assert.equal(keys.get("\u00ff\u00ff\u00ff\u00ff"), undefined);
});
