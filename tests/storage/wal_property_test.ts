// Property: after any sequence of synced saves (appends, raft conflict overwrites, segment
// rollovers) and a crash that tears the final save at any byte, openWal returns the state
// after the previous save plus the records of the final save that were written whole (its
// entries come first, its hard state last), and nothing else.

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Entry, HardState } from "../../src/raft/mod.ts";
import { createWal, openWal } from "../../src/storage/mod.ts";
import { entryRecordSize } from "../../src/storage/record.ts";
import { entry, META, tempDir, walFiles } from "./helpers.ts";

interface Op {
  /** Where the batch starts, as a distance back from the log's end (0 = plain append). */
  back: number;
  count: number;
  size: number;
  withHardState: boolean;
}

const op = fc.record({
  back: fc.nat(4),
  count: fc.integer({ min: 0, max: 6 }),
  size: fc.nat(200),
  withHardState: fc.boolean(),
});

function apply(log: Entry[], hs: HardState, o: Op, term: number): [Entry[], HardState, Entry[]] {
  const first = Math.max(1, log.length + 1 - o.back);
  const batch = Array.from(
    { length: o.count },
    (_, i) => entry(first + i, term, "v".repeat(o.size) + (first + i)),
  );
  const next = batch.length > 0 ? [...log.slice(0, first - 1), ...batch] : log;
  return [next, o.withHardState ? { term, vote: 1n, commit: next.length } : hs, batch];
}

Deno.test("wal property: a torn final save loses only its unwritten records", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(op, { minLength: 1, maxLength: 12 }),
      fc.nat(),
      async (ops, cutSeed) => {
        await using tmp = await tempDir();
        const wal = await createWal(tmp.path, META, { segmentSize: 600 });
        let log: Entry[] = [];
        let hs: HardState = { term: 0, vote: 0n, commit: 0 };
        let before: [Entry[], HardState] = [log, hs];
        let lastBatch: Entry[] = [];
        let lastFile = "";
        let sizeBefore = 0;
        for (let i = 0; i < ops.length; i++) {
          before = [log, hs];
          lastFile = walFiles(tmp.path).at(-1)!;
          sizeBefore = (await Deno.stat(`${tmp.path}/${lastFile}`)).size;
          const [nextLog, nextHs, batch] = apply(log, hs, ops[i], i + 1);
          await wal.save(ops[i].withHardState ? nextHs : undefined, batch, true);
          lastBatch = batch;
          [log, hs] = [nextLog, nextHs];
        }
        await wal.close();
        // The final save went to the segment that was last before it (a rollover happens after
        // the write); tear it only if that segment is still the last one.
        const files = walFiles(tmp.path);
        const path = `${tmp.path}/${lastFile}`;
        const full = await Deno.readFile(path);
        const torn = files.at(-1) === lastFile && full.length > sizeBefore;
        const cut = torn ? sizeBefore + (cutSeed % (full.length - sizeBefore)) : full.length;
        await Deno.writeFile(path, full.subarray(0, cut));
        const o = await openWal(tmp.path, { index: 0, term: 0 });
        await o.wal.close();
        let [wantLog, wantHs] = cut < full.length ? before : [log, hs];
        if (cut < full.length) {
          // Entries of the final batch whose records end at or before the cut survive.
          let end = sizeBefore;
          let whole = 0;
          while (whole < lastBatch.length && (end += entryRecordSize(lastBatch[whole])) <= cut) {
            whole++;
          }
          if (whole > 0) {
            wantLog = [...before[0].slice(0, lastBatch[0].index - 1), ...lastBatch.slice(0, whole)];
          }
        }
        assert.deepEqual(o.entries, wantLog);
        assert.deepEqual(o.hardState, wantHs);
      },
    ),
    { numRuns: 100 },
  );
});
