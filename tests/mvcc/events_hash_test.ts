import assert from "node:assert/strict";
import { type Event, EventType, MvccStore } from "../../src/mvcc/mod.ts";
import { b, del, put, s, show, ZERO } from "../helpers/mvcc.ts";

const brief = (e: Event) => ({
  type: e.type === EventType.PUT ? "PUT" : "DELETE",
  kv: show(e.kv),
  prev: show(e.prevKv),
});

Deno.test("every write txn hands its events, with prevKv, to listeners when it ends", () => {
  const st = new MvccStore(":memory:");
  const seen: Event[][] = [];
  const off = st.onEvents((evs) => seen.push(evs));
  put(st, "a", "1");
  const txn = st.write();
  txn.put(b("a"), b("2"), 5n);
  txn.put(b("b"), b("1"), 0n);
  txn.deleteRange(b("a"));
  assert.equal(seen.length, 1, "nothing before the txn ends");
  txn.end();
  del(st, "zzz"); // no change, no events
  off();
  put(st, "c", "1");
  assert.deepEqual(seen.map((evs) => evs.map(brief)), [
    [{
      type: "PUT",
      kv: { key: "a", create: 2, mod: 2, ver: 1, value: "1", lease: 0n },
      prev: undefined,
    }],
    [
      {
        type: "PUT",
        kv: { key: "a", create: 2, mod: 3, ver: 2, value: "2", lease: 5n },
        prev: { key: "a", create: 2, mod: 2, ver: 1, value: "1", lease: 0n },
      },
      {
        type: "PUT",
        kv: { key: "b", create: 3, mod: 3, ver: 1, value: "1", lease: 0n },
        prev: undefined,
      },
      {
        type: "DELETE",
        kv: { key: "a", create: 0, mod: 3, ver: 0, value: "", lease: 0n },
        prev: { key: "a", create: 2, mod: 3, ver: 2, value: "2", lease: 5n },
      },
    ],
  ]);
  st.close();
});

Deno.test("eventsBetween replays history as the live events were, by range and limit", () => {
  const st = new MvccStore(":memory:");
  const live: Event[] = [];
  st.onEvents((evs) => live.push(...evs));
  put(st, "a", "1"); // 2
  put(st, "b", "1"); // 3
  const txn = st.write(); // 4
  txn.put(b("a"), b("2"), 0n);
  txn.put(b("c"), b("1"), 0n);
  txn.end();
  del(st, "a"); // 5
  put(st, "a", "3"); // 6
  const all = st.eventsBetween(ZERO, ZERO, 2, 6).events;
  assert.deepEqual(all.map(brief), live.map(brief));
  const onlyA = st.eventsBetween(b("a"), undefined, 3, 6).events;
  assert.deepEqual(onlyA.map((e) => [e.type, e.kv.modRevision, e.prevKv?.modRevision]), [
    [EventType.PUT, 4, 2],
    [EventType.DELETE, 5, 4],
    [EventType.PUT, 6, undefined],
  ]);
  assert.deepEqual(st.eventsBetween(b("b"), b("d"), 2, 6).events.map((e) => s(e.kv.key)), [
    "b",
    "c",
  ]);
  assert.deepEqual(st.eventsBetween(ZERO, ZERO, 4, 4, 1).events.map((e) => s(e.kv.key)), ["a"]);
  assert.deepEqual(st.eventsBetween(ZERO, ZERO, 3, 6, 2).events.map((e) => e.kv.modRevision), [
    3,
    4,
  ]);
  assert.deepEqual(st.eventsBetween(ZERO, ZERO, 7, 9).events, []);
  assert.deepEqual(st.eventsBetween(b("b"), b("a"), 1, 6).events, []);
  st.close();
});

function replay(st: MvccStore, ops: [string, string | null][]) {
  for (const [k, v] of ops) {
    if (v === null) del(st, k);
    else put(st, k, v, BigInt(v.length));
  }
}

const OPS: [string, string | null][] = [
  ["a", "1"],
  ["b", "1"],
  ["a", "22"],
  ["b", null],
  ["c", "333"],
  ["a", null],
  ["a", "4"],
  ["d", "5"],
];

Deno.test("hashKV is the same on members whatever their physical compaction progress", async () => {
  const x = new MvccStore(":memory:", { autoCompact: false });
  const y = new MvccStore(":memory:", { autoCompact: false });
  replay(x, OPS);
  replay(y, OPS);
  assert.deepEqual(x.hashKV(0), y.hashKV(0));
  assert.deepEqual(x.hashKV(0).rev, 9);
  assert.equal(x.hashKV(0).compactRevision, -1);
  const h5 = x.hashKV(5);
  assert.notEqual(h5.hash, x.hashKV(6).hash);
  assert.equal(h5.rev, 9);
  const dx = x.compact(6);
  const dy = y.compact(6);
  x.compactStep(1_000);
  await dx;
  assert.ok(x.revisionCount() < y.revisionCount());
  assert.deepEqual(x.hashKV(0), y.hashKV(0), "y has not removed anything yet");
  assert.deepEqual(x.hashKV(8), y.hashKV(8));
  assert.equal(x.hashKV(0).compactRevision, 6);
  assert.throws(() => x.hashKV(6), /compacted/);
  assert.throws(() => x.hashKV(10), /future/);
  y.compactStep(1_000);
  await dy;
  assert.equal(x.hash(), y.hash());
  // Different content, different hash.
  put(y, "e", "1");
  put(x, "e", "2");
  assert.notEqual(x.hashKV(0).hash, y.hashKV(0).hash);
  assert.notEqual(x.hash(), y.hash());
  x.close();
  y.close();
});
