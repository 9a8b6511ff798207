// Physical compaction: removing the rows a logical compaction made unreachable, a batch at a
// time so that applying entries is never blocked for long. As in etcd, the key index decides:
// its compaction at C names the rows at or below C that stay (each key's value at C), and every
// other row at or below C goes. Deletions ride in the batch transaction.
import type { Backend } from "./backend.ts";
import { idFloor } from "./history.ts";
import { IdSet } from "./tree_index.ts";

// mvcc_kept(id): whether the job's key index compaction kept row `id`.
const DELETE_SUPERSEDED = "DELETE FROM rev WHERE id >= ? AND id < ? AND NOT mvcc_kept(id)";

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
  private kept = new IdSet();

  constructor(private readonly be: Backend) {
    be.db.function("mvcc_kept", (id) => this.kept.has(Number(id)) ? 1 : 0);
  }

  // Starts (or restarts, for a newer target) removal for compaction revision `rev`; `kept` are
  // the rows at or below it that stay.
  start(rev: number, kept: IdSet): Promise<void> {
    this.target = rev;
    this.kept = kept;
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
      deleted = this.be.run(DELETE_SUPERSEDED, this.cursor, end);
    }
    this.cursor = end;
    const target = this.target;
    if (full !== undefined) return { target, deleted, finished: false };
    this.target = -1;
    this.kept = new IdSet();
    for (const w of this.waiters.splice(0)) w();
    return { target, deleted, finished: true };
  }
}
