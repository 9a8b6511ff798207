// Random operations against a plain in-memory model of etcd's revision semantics: reads at
// every revision, counts, limits and history must match, through compactions, and through
// reopening the store (its key index rebuilt from the rows) mid-way.
import assert from "node:assert/strict";
import { compareBytes, type Event, MvccStore } from "../../src/mvcc/mod.ts";
import { b, s } from "../helpers/mvcc.ts";
import { prng } from "../helpers/random.ts";
import { tempDir } from "../helpers/tmp.ts";

interface MKv {
  create: number;
  mod: number;
  ver: number;
  value: string;
}
type State = Map<string, MKv>;

const KEYS = ["a", "a\0", "ab", "b", "ba", "c", "\xff", "d"];

function modelRange(st: State, lo: string, hi: string | null): string[] {
  const sorted = [...st.keys()].sort((x, y) => compareBytes(b(x), b(y)));
  return sorted.filter((k) =>
    compareBytes(b(k), b(lo)) >= 0 && (hi === null || compareBytes(b(k), b(hi)) < 0)
  );
}

// A reopened store answers as the one that wrote the file did.
function reopen(store: MvccStore, path: string, live: Event[]): MvccStore {
  const hashes = [0, 1, 2].map((back) => hashAt(store, store.rev() - back));
  store.commit();
  store.close();
  const again = new MvccStore(path, { autoCompact: false });
  again.onEvents((evs) => live.push(...evs));
  assert.deepEqual([0, 1, 2].map((back) => hashAt(again, again.rev() - back)), hashes);
  return again;
}

function hashAt(store: MvccStore, rev: number): string {
  try {
    return String(store.hashKV(rev).hash);
  } catch (e) {
    return (e as Error).message;
  }
}

for (const [seed, onFile] of [[1, false], [2, false], [3, true], [4, false], [5, true]] as const) {
  Deno.test(`store matches the model (seed ${seed}${onFile ? ", reopened" : ""})`, async () => {
    const rand = prng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    await using dir = tempDir({ tmpfs: true });
    const path = onFile ? `${dir.path}/db` : ":memory:";
    let store = new MvccStore(path, { autoCompact: false });
    const states: State[] = [new Map(), new Map()]; // index = revision
    let compactRev = -1;
    const live: Event[] = [];
    store.onEvents((evs) => live.push(...evs));
    for (let step = 0; step < 300; step++) {
      if (onFile && rand() < 0.05) store = reopen(store, path, live);
      const cur = new Map(states[states.length - 1]);
      const rev = states.length; // revision a change would get
      const txn = store.write();
      let changed = false;
      for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) {
        const k = pick(KEYS);
        if (rand() < 0.7) {
          const v = `${step}.${n}`;
          txn.put(b(k), b(v), 0n);
          const prev = cur.get(k);
          cur.set(k, {
            create: prev ? prev.create : rev,
            mod: rev,
            ver: (prev?.ver ?? 0) + 1,
            value: v,
          });
          changed = true;
        } else {
          const end = rand() < 0.5 ? undefined : pick(KEYS);
          const gone = txn.deleteRange(b(k), end === undefined ? undefined : b(end));
          const want = end === undefined ? (cur.has(k) ? [k] : []) : modelRange(cur, k, end);
          assert.deepEqual(gone.map((kv) => s(kv.key)), want);
          for (const g of want) cur.delete(g);
          if (want.length) changed = true;
        }
      }
      txn.end();
      if (changed) states.push(cur);
      assert.equal(store.rev(), states.length - 1);
      if (rand() < 0.05) {
        const target = Math.max(compactRev + 1, Math.floor(rand() * store.rev()) + 1);
        void store.compact(target);
        compactRev = target;
      }
      if (rand() < 0.3) store.compactStep(1 + Math.floor(rand() * 5));
      // Check reads at a few revisions.
      for (let c = 0; c < 3; c++) {
        const at = Math.max(compactRev, 1) +
          Math.floor(rand() * (store.rev() - Math.max(compactRev, 1) + 1));
        const lo = pick(KEYS);
        const hi = rand() < 0.2 ? null : pick(KEYS);
        const limit = rand() < 0.5 ? 0 : 1 + Math.floor(rand() * 3);
        const rr = store.range(b(lo), hi === null ? new Uint8Array([0]) : b(hi), {
          rev: at,
          limit,
        });
        const want = modelRange(states[at], lo, hi);
        assert.equal(rr.count, want.length);
        const got = rr.kvs.map((
          kv,
        ) => [s(kv.key), kv.createRevision, kv.modRevision, kv.version, s(kv.value)]);
        const exp = (limit ? want.slice(0, limit) : want).map((k) => {
          const m = states[at].get(k)!;
          return [k, m.create, m.mod, m.ver, m.value];
        });
        assert.deepEqual(got, exp, `rev ${at} [${lo}, ${hi})`);
      }
      if (compactRev > 1) {
        assert.throws(() => store.range(b("a"), undefined, { rev: compactRev - 1 }), /compacted/);
      }
      assert.equal(store.keyCount(), states[store.rev()].size);
    }
    // History above the compaction point is what the write txns reported, key by key.
    const from = Math.max(compactRev, 1) + 1;
    for (const k of KEYS) {
      const evs = store.eventsBetween(b(k), undefined, from, store.rev()).events;
      const want = live.filter((e) => s(e.kv.key) === k && e.kv.modRevision >= from);
      assert.deepEqual(evs, want, `history of ${k}`);
    }
    store.close();
  });
}
