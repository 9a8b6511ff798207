// Property: after any sequence of synced saves (appends, raft conflict overwrites, segment
// rollovers) and a crash that tears the final save at any byte, openWal returns the state
// after the previous save plus the records of the final save that were written whole (its
// entries come first, its hard state last), and nothing else. The tear leaves zeros after the
// cut (a write into preallocated space) or ends the file there (a write that grew the file).

import assert from "node:assert/strict";
import fc from "fast-check";
import type { Entry, HardState } from "../../src/raft/mod.ts";
import { createWal, openWal } from "../../src/storage/mod.ts";
import { entryRecordSize } from "../../src/storage/record.ts";
import { dataEnd, entry, META, walFiles } from "../helpers/storage.ts";
import { tempDir } from "../helpers/tmp.ts";

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
        await using tmp = tempDir({ tmpfs: true });
        const wal = await createWal(tmp.path, META, { segmentSize: 600 });
        let log: Entry[] = [];
        let hs: HardState = { term: 0, vote: 0n, commit: 0 };
        let before: [Entry[], HardState] = [log, hs];
        let lastBatch: Entry[] = [];
        let lastFile = "";
        let endBefore = 0;
        for (let i = 0; i < ops.length; i++) {
          before = [log, hs];
          lastFile = walFiles(tmp.path).at(-1)!;
          endBefore = dataEnd(await Deno.readFile(`${tmp.path}/${lastFile}`));
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
        const end = dataEnd(full);
        const torn = files.at(-1) === lastFile && end > endBefore;
        let cut = torn ? endBefore + (cutSeed % (end - endBefore)) : end;
        if (cutSeed % 2 === 0) {
          await Deno.writeFile(path, full.subarray(0, cut));
        } else {
          const damaged = full.slice();
          damaged.fill(0, cut, end);
          await Deno.writeFile(path, damaged);
          // Zeroing bytes that were zero anyway is a cut at the next non-zero byte.
          while (cut < end && full[cut] === 0) cut++;
        }
        const o = await openWal(tmp.path, { index: 0, term: 0 }, { segmentSize: 600 });
        await o.wal.close();
        let [wantLog, wantHs] = cut < end ? before : [log, hs];
        if (cut < end) {
          // Entries of the final batch whose records end at or before the cut survive.
          let recordEnd = endBefore;
          let whole = 0;
          while (
            whole < lastBatch.length && (recordEnd += entryRecordSize(lastBatch[whole])) <= cut
          ) {
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
    { numRuns: 200 },
  );
});
