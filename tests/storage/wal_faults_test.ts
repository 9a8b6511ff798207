// The WAL's disk faults, injected through its failpoints: a write that fails (a full disk) and
// an fsync that fails (losing the unsynced bytes, as Linux may). Each names the segment in Go's
// words and leaves the log refusing further writes; what was synced before stays readable. And
// the snapshots a restart may start from after a crash between a snapshot and its hard state.
import assert from "node:assert/strict";
import { createWal, openWal, validSnapshotEntries } from "../../src/storage/mod.ts";
import { disableAll, enable } from "../../src/failpoint/mod.ts";
import type { Entry, HardState } from "../../src/raft/mod.ts";
import { tempDir } from "../helpers/tmp.ts";

const META = new TextEncoder().encode("meta");
const ZERO = { index: 0, term: 0 };
const entry = (index: number): Entry => ({
  index,
  term: 1,
  type: 0,
  data: new TextEncoder().encode(`e${index}`),
});
const hs = (commit: number): HardState => ({ term: 1, vote: 1n, commit });

function segmentPath(dir: string, wal: { segments: string[] }): string {
  return `${dir}/${wal.segments.at(-1)}`;
}

Deno.test("wal: a write refused by a full disk fails naming the segment, nothing written", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await wal.save(hs(1), [entry(1)], true);
  const path = segmentPath(tmp.path, wal);
  const before = Deno.readFileSync(path);
  enable("walBeforeWrite", `return("ENOSPC")`);
  try {
    await assert.rejects(
      wal.save(hs(2), [entry(2)], true),
      (err: Error & { code?: string }) => {
        assert.equal(err.message, `write ${path}: no space left on device`);
        assert.equal(err.code, "ENOSPC");
        return true;
      },
    );
  } finally {
    disableAll();
  }
  assert.deepEqual(Deno.readFileSync(path), before);
  await assert.rejects(wal.save(hs(2), [entry(2)], true), /unusable after earlier error/);
  await wal.close();
  const reopened = await openWal(tmp.path, ZERO);
  assert.deepEqual(reopened.entries.map((e) => e.index), [1]);
  await reopened.wal.close();
});

Deno.test("wal: a failed fsync loses the unsynced bytes and fails naming the segment", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await wal.save(hs(1), [entry(1), entry(2)], true);
  // A save raft lets go unsynced (only the commit index moved) stays in the page cache...
  await wal.save(hs(2), [], false);
  const path = segmentPath(tmp.path, wal);
  enable("walBeforeSync", `1*return("EIO")`);
  try {
    await assert.rejects(wal.save(hs(2), [entry(3)], true), {
      message: `sync ${path}: input/output error`,
    });
  } finally {
    disableAll();
  }
  await assert.rejects(wal.save(hs(3), [entry(4)], true), /unusable after earlier error/);
  await wal.close();
  // ...and goes with the failed fsync's own bytes: the log ends at the last fsync.
  const reopened = await openWal(tmp.path, ZERO);
  assert.deepEqual(reopened.entries.map((e) => e.index), [1, 2]);
  assert.equal(reopened.hardState.commit, 1);
  assert.equal(reopened.repaired, undefined);
  await reopened.wal.close();
});

Deno.test("wal: an fsync that succeeds before the failpoint after it keeps the bytes", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  enable("walAfterSync", `1*return("EIO")`);
  try {
    await assert.rejects(wal.save(hs(1), [entry(1)], true), /Input\/output error/);
  } finally {
    disableAll();
  }
  await wal.close();
  const reopened = await openWal(tmp.path, ZERO);
  assert.deepEqual(reopened.entries.map((e) => e.index), [1]);
  await reopened.wal.close();
});

Deno.test("wal: a restart may start from the snapshots the committed hard state covers", async () => {
  await using tmp = tempDir({ tmpfs: true });
  const wal = await createWal(tmp.path, META);
  await wal.save(hs(1), [entry(1), entry(2), entry(3)], true);
  await wal.saveSnapshot({ index: 2, term: 1 });
  await wal.save(hs(3), [], true);
  // A snapshot from the leader, saved before the hard state that commits it (never written).
  await wal.saveSnapshot({ index: 9, term: 2 });
  await wal.close();
  assert.deepEqual(await validSnapshotEntries(tmp.path), [
    { index: 0, term: 0 },
    { index: 2, term: 1 },
  ]);
});
