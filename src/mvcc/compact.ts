// Physical compaction: removing the rows a logical compaction made unreachable, a batch at a
// time so that applying entries is never blocked for long. A row at or below the compaction
// revision C goes when it is a tombstone or a later change of its key at or below C exists;
// the latest live value of each key at C stays. Deletions ride in the batch transaction.
import type { Backend } from "./backend.ts";
import { idFloor } from "./history.ts";

// "Later" is by id: a key can change twice in one revision (a put, then a from-key delete
// that etcd's duplicate check lets through). `main >= rev.main` lets the index seek.
const DELETE_SUPERSEDED = "DELETE FROM rev WHERE id >= ? AND id < ? AND (version = 0 OR " +
  "EXISTS (SELECT 1 FROM rev r2 WHERE r2.key = rev.key AND r2.main >= rev.main " +
  "AND r2.main <= ? AND r2.id > rev.id))";

/** What one batch of physical compaction did. */
export interface CompactionBatch {
  /** The compaction revision being worked on. */
  target: number;
  /** Rows removed by this batch. */
  deleted: number;
  /** Whether this batch ended the job. */
  finished: boolean;
}

export class Compactor {
  private target = -1;
  private cursor = 0;
  private hiId = 0; // rows with id < hiId are at or below the target revision
  private waiters: (() => void)[] = [];

  constructor(private readonly be: Backend) {}

  // Starts (or restarts, for a newer target) removal for compaction revision `rev`.
  start(rev: number): Promise<void> {
    this.target = rev;
    this.cursor = 0;
    this.hiId = idFloor(this.be, rev + 1);
    return this.finished();
  }

  // Resolves when the job in progress is done (at once when there is none).
  finished(): Promise<void> {
    if (this.target < 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  pending(): boolean {
    return this.target >= 0;
  }

  // Examines the next `batch` revisions at or below the target (etcd's compaction batch limit)
  // and removes the superseded ones. As in etcd, the job ends with the first batch that finds
  // fewer than `batch` revisions. Undefined when there is no job.
  step(batch: number): CompactionBatch | undefined {
    if (this.target < 0) return undefined;
    const limit = Math.max(1, Math.floor(batch));
    const last = "SELECT id FROM rev WHERE id >= ? AND id < ? ORDER BY id LIMIT 1 OFFSET ?";
    const full = this.be.get(last, this.cursor, this.hiId, limit - 1)?.[0] as number | undefined;
    const end = full === undefined ? this.hiId : full + 1;
    let deleted = 0;
    if (end > this.cursor) {
      this.be.begin();
      deleted = this.be.run(DELETE_SUPERSEDED, this.cursor, end, this.target);
    }
    this.cursor = end;
    const target = this.target;
    if (full !== undefined) return { target, deleted, finished: false };
    this.target = -1;
    for (const w of this.waiters.splice(0)) w();
    return { target, deleted, finished: true };
  }
}
