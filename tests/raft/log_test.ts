import assert from "node:assert/strict";
import { RaftLog } from "../../src/raft/log.ts";
import { MemoryStorage } from "../../src/raft/storage.ts";
import { type Entry, ErrCompacted, ErrUnavailable } from "../../src/raft/types.ts";
import { newEntry } from "../../src/raft/util.ts";
import { CaptureLogger } from "../helpers/raft.ts";

const e = (index: number, term: number): Entry => newEntry({ index, term });
const logger = new CaptureLogger();

function logWith(ents: Entry[]): RaftLog {
  const l = new RaftLog(new MemoryStorage(), logger);
  l.append(ents);
  return l;
}

Deno.test("findConflict", () => {
  const prev = [e(1, 1), e(2, 2), e(3, 3)];
  const cases: [Entry[], number][] = [
    [[], 0],
    [[e(1, 1), e(2, 2), e(3, 3)], 0],
    [[e(2, 2), e(3, 3)], 0],
    [[e(3, 3)], 0],
    [[e(1, 1), e(2, 2), e(3, 3), e(4, 4), e(5, 4)], 4],
    [[e(4, 4), e(5, 4)], 4],
    [[e(1, 4), e(2, 4)], 1],
    [[e(2, 1), e(3, 4), e(4, 4)], 2],
    [[e(3, 1), e(4, 2), e(5, 4), e(6, 4)], 3],
  ];
  for (const [ents, want] of cases) assert.equal(logWith(prev).findConflict(ents), want);
});

Deno.test("isUpToDate", () => {
  const l = logWith([e(1, 1), e(2, 2), e(3, 3)]);
  const cases: [number, number, boolean][] = [
    [2, 4, true], // greater term wins regardless of index
    [3, 4, true],
    [4, 4, true],
    [2, 2, false], // smaller term loses
    [3, 2, false],
    [4, 2, false],
    [2, 3, false], // equal term: longer log wins
    [3, 3, true],
    [4, 3, true],
  ];
  for (const [index, term, want] of cases) {
    assert.equal(l.isUpToDate(index, term), want, `(${index}, ${term})`);
  }
});

Deno.test("maybeAppend", () => {
  const prev = [e(1, 1), e(2, 2), e(3, 3)];
  const cases: {
    logTerm: number;
    index: number;
    committed: number;
    ents: Entry[];
    want?: number;
    wantCommit: number;
    panics?: boolean;
  }[] = [
    // The previous entry does not match: reject.
    { logTerm: 2, index: 3, committed: 3, ents: [e(4, 4)], wantCommit: 1 },
    { logTerm: 3, index: 4, committed: 3, ents: [e(5, 4)], wantCommit: 1 },
    // Match with the last existing entry.
    { logTerm: 3, index: 3, committed: 3, ents: [], want: 3, wantCommit: 3 },
    { logTerm: 3, index: 3, committed: 4, ents: [], want: 3, wantCommit: 3 }, // commit up to last new
    { logTerm: 3, index: 3, committed: 2, ents: [], want: 3, wantCommit: 2 }, // commit never beyond given
    { logTerm: 3, index: 3, committed: 0, ents: [], want: 3, wantCommit: 1 }, // commit never decreases
    { logTerm: 3, index: 3, committed: 3, ents: [e(4, 4)], want: 4, wantCommit: 3 },
    { logTerm: 3, index: 3, committed: 4, ents: [e(4, 4)], want: 4, wantCommit: 4 },
    { logTerm: 3, index: 3, committed: 5, ents: [e(4, 4), e(5, 4)], want: 5, wantCommit: 5 },
    // Match with an entry in the middle.
    { logTerm: 2, index: 2, committed: 3, ents: [e(3, 4)], want: 3, wantCommit: 3 },
    { logTerm: 1, index: 1, committed: 4, ents: [e(2, 4)], want: 2, wantCommit: 2 },
    // Conflict with a committed entry panics.
    { logTerm: 0, index: 0, committed: 3, ents: [e(1, 4)], wantCommit: 0, panics: true },
  ];
  for (const [i, c] of cases.entries()) {
    const l = logWith(prev);
    l.committed = 1;
    if (c.panics) {
      assert.throws(() => l.maybeAppend(c.index, c.logTerm, c.committed, c.ents), `#${i}`);
      continue;
    }
    assert.equal(l.maybeAppend(c.index, c.logTerm, c.committed, c.ents), c.want, `#${i}`);
    assert.equal(l.committed, c.wantCommit, `#${i} commit`);
    if (c.want !== undefined && c.ents.length > 0) {
      assert.deepEqual(
        l.slice(l.lastIndex() - c.ents.length + 1, l.lastIndex() + 1, Infinity),
        c.ents,
      );
    }
  }
});

Deno.test("commitTo never decreases and panics beyond the last index", () => {
  const l = logWith([e(1, 1), e(2, 2), e(3, 3)]);
  l.commitTo(3);
  l.commitTo(2);
  assert.equal(l.committed, 3);
  assert.throws(() => l.commitTo(4), /tocommit\(4\) is out of range \[lastIndex\(3\)\]/);
});

Deno.test("stableTo moves unstable entries only when the term matches", () => {
  const cases: [number, number, number][] = [[1, 1, 2], [2, 2, 3], [2, 1, 1], [3, 1, 1]];
  for (const [i, t, wantOffset] of cases) {
    const l = logWith([e(1, 1), e(2, 2)]);
    l.stableTo(i, t);
    assert.equal(l.unstable.offset, wantOffset, `stableTo(${i}, ${t})`);
  }
});

Deno.test("nextEnts and hasNextEnts respect applied and committed", () => {
  const l = logWith([e(1, 1), e(2, 1), e(3, 1)]);
  l.commitTo(2);
  assert.deepEqual(l.nextEnts().map((x) => x.index), [1, 2]);
  l.appliedTo(2);
  assert.equal(l.hasNextEnts(), false);
  l.commitTo(3);
  assert.deepEqual(l.nextEnts().map((x) => x.index), [3]);
  assert.throws(() => l.appliedTo(1), /applied\(1\) is out of range/);
});

Deno.test("term and slice around a compacted storage", () => {
  const s = new MemoryStorage();
  s.append([e(1, 1), e(2, 1), e(3, 2), e(4, 2), e(5, 3)]);
  s.createSnapshot(3, undefined, new Uint8Array());
  s.compact(3);
  const l = new RaftLog(s, logger);
  assert.equal(l.firstIndex(), 4);
  assert.equal(l.term(3), 2); // the dummy entry keeps the snapshot's term
  assert.equal(l.term(2), 0); // before the dummy: outside the log
  assert.equal(l.term(6), 0);
  assert.throws(() => l.slice(3, 5, Infinity), (err) => err === ErrCompacted);
  l.append([e(6, 3), e(7, 3)]);
  assert.deepEqual(l.slice(4, 8, Infinity).map((x) => x.index), [4, 5, 6, 7]);
  // Size limits cut across the stable/unstable boundary but always return one entry.
  assert.equal(l.slice(4, 8, 0).length, 1);
  assert.equal(l.committed, 3);
});

Deno.test("MemoryStorage: term, entries, compact, append", () => {
  const s = new MemoryStorage();
  s.append([e(1, 1), e(2, 1), e(3, 2)]);
  assert.equal(s.firstIndex(), 1);
  assert.equal(s.lastIndex(), 3);
  assert.equal(s.term(3), 2);
  assert.throws(() => s.term(4), (err) => err === ErrUnavailable);
  s.createSnapshot(2, { voters: [1n], learners: [] }, new Uint8Array([9]));
  s.compact(2);
  assert.throws(() => s.term(1), (err) => err === ErrCompacted);
  assert.throws(() => s.entries(2, 3, Infinity), (err) => err === ErrCompacted);
  assert.deepEqual(s.entries(3, 4, Infinity), [e(3, 2)]);
  // Appending a conflicting suffix replaces it; entries before firstIndex are ignored.
  s.append([e(2, 1), e(3, 3), e(4, 3)]);
  assert.deepEqual(s.entries(3, 5, Infinity), [e(3, 3), e(4, 3)]);
  assert.throws(() => s.append([e(6, 3)]), /missing log entry/);
  assert.deepEqual(s.initialState().confState, { voters: [1n], learners: [] });
  assert.throws(() => s.applySnapshot(s.snapshot()), /older than the existing snapshot/);
});
