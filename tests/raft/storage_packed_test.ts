// MemoryStorage keeps its entries packed (src/raft/packed_entries.ts): what it hands back must be
// what was appended, through conflicting appends, compactions and snapshots, and its gauges
// (entries held, bytes of the slabs holding their data) must follow what it holds.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { MemoryStorage } from "../../src/raft/storage.ts";
import { type Entry, EntryType, ErrCompacted } from "../../src/raft/types.ts";
import { entrySize } from "../../src/raft/util.ts";

const entry = (index: number, term: number, size: number): Entry => ({
  index,
  term,
  type: size % 3 === 0 ? EntryType.ConfChange : EntryType.Normal,
  data: new Uint8Array(size).map((_, i) => (index * 31 + term + i) & 0xff),
});

const bytes = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length);

function assertSame(got: Entry[], want: Entry[]): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    const w = want[i];
    assert.deepEqual([g.index, g.term, g.type], [w.index, w.term, w.type]);
    assert.ok(bytes(g.data).equals(bytes(w.data)), `data of entry ${w.index}`);
  });
}

type Op =
  | { kind: "append"; back: number; count: number; term: number; size: number }
  | { kind: "compact"; back: number };

const appendArb = (count: number, size: fc.Arbitrary<number>) =>
  fc.record({
    kind: fc.constant("append" as const),
    back: fc.nat(5),
    count: fc.integer({ min: 1, max: count }),
    term: fc.integer({ min: 1, max: 4 }),
    size,
  });

// Small entries share slabs; a few larger than a slab get their own.
const opArb: fc.Arbitrary<Op> = fc.oneof(
  appendArb(300, fc.oneof(fc.constant(0), fc.nat(600))),
  appendArb(2, fc.integer({ min: 200_000, max: 400_000 })),
  fc.record({ kind: fc.constant("compact" as const), back: fc.nat(400) }),
);

Deno.test("packed storage returns what a plain array of entries would", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 15 }), (ops) => {
      const s = new MemoryStorage();
      let model: Entry[] = []; // entries after the last compacted one
      let offset = 0;
      for (const op of ops) {
        if (op.kind === "append") {
          const from = Math.max(offset + 1, offset + model.length + 1 - op.back);
          const ents = Array.from(
            { length: op.count },
            (_, k) => entry(from + k, op.term, op.size),
          );
          s.append(ents);
          model = [
            ...model.slice(0, from - offset - 1),
            ...ents.map((e) => ({ ...e, data: e.data.slice() })),
          ];
          // the caller's buffers are its own again: the log copied their bytes
          for (const e of ents) e.data.fill(0xee);
        } else if (model.length > 0) {
          const at = offset + 1 + Math.min(op.back, model.length - 1);
          s.compact(at);
          model = model.slice(at - offset);
          offset = at;
        }
        assert.equal(s.firstIndex(), offset + 1);
        assert.equal(s.lastIndex(), offset + model.length);
        const data = model.reduce((n, e) => n + e.data.length, 0);
        const { entries, bytes } = s.stats();
        assert.equal(entries, model.length);
        assert.ok(bytes >= data, `slabs ${bytes} < data ${data}`);
        if (model.length === 0) continue;
        assert.throws(() => s.entries(offset, offset + 1, Infinity), ErrCompacted);
        assertSame(s.entries(offset + 1, offset + model.length + 1, Infinity), model);
        const limit = entrySize(model[0]) + 1;
        const first = s.entries(offset + 1, offset + model.length + 1, limit);
        assert.ok(
          first.length >= 1 &&
            first.reduce((n, e) => n + entrySize(e), 0) <= Math.max(limit, entrySize(model[0])),
        );
        for (const e of model) assert.equal(s.term(e.index), e.term);
      }
    }),
    { numRuns: 40 },
  );
});

Deno.test("compacting drops the slabs only the dropped entries used", () => {
  const s = new MemoryStorage();
  const ents = Array.from({ length: 2000 }, (_, k) => entry(k + 1, 1, 1000));
  s.append(ents);
  const full = s.stats();
  assert.equal(full.entries, 2000);
  assert.ok(full.bytes >= 2000 * 1000);
  s.compact(1500);
  const after = s.stats();
  assert.equal(after.entries, 500);
  assert.ok(after.bytes < full.bytes / 2, `${full.bytes} -> ${after.bytes}`);
  assert.ok(after.bytes >= 500 * 1000);
  s.applySnapshot({
    metadata: { index: 3000, term: 2, confState: { voters: [1n], learners: [] } },
    data: new Uint8Array(),
  });
  assert.deepEqual(s.stats(), { entries: 0, bytes: 0 });
});
