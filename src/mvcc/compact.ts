// Physical compaction: removing the rows a logical compaction made unreachable, a batch at a
// time so that applying entries is never blocked for long. A row at or below the compaction
// revision C goes when it is a tombstone or a later change of its key at or below C exists;
// the latest live value of each key at C stays. Deletions ride in the batch transaction.
import { mvccMetrics } from "../metrics/mod.ts";
import type { Backend } from "./backend.ts";
import { idFloor } from "./history.ts";

// "Later" is by id: a key can change twice in one revision (a put, then a from-key delete
// that etcd's duplicate check lets through). `main >= rev.main` lets the index seek.
const DELETE_SUPERSEDED = "DELETE FROM rev WHERE id >= ? AND id < ? AND (version = 0 OR " +
  "EXISTS (SELECT 1 FROM rev r2 WHERE r2.key = rev.key AND r2.main >= rev.main " +
  "AND r2.main <= ? AND r2.id > rev.id))";

export class Compactor {
  private target = -1;
  private cursor = 0;
  private hiId = 0; // rows with id < hiId are at or below the target revision
  private waiters: (() => void)[] = [];
  private startedAt = 0; // performance.now() when the job began, for etcd's duration histograms

  constructor(private readonly be: Backend) {}

  // Starts (or restarts, for a newer target) removal for compaction revision `rev`.
  start(rev: number): Promise<void> {
    this.target = rev;
    this.cursor = 0;
    this.hiId = idFloor(this.be, rev + 1);
    this.startedAt = performance.now();
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

  // Examines up to `batch` rows; returns the target revision when this finished the job,
  // undefined while work remains (or when there was none).
  step(batch: number): number | undefined {
    if (this.target < 0) return undefined;
    const stepStart = performance.now();
    const nth = `SELECT id FROM rev WHERE id >= ? ORDER BY id LIMIT 1 OFFSET ${Math.floor(batch)}`;
    const stop = (this.be.get(nth, this.cursor)?.[0] as number | undefined) ?? this.hiId;
    const end = Math.min(stop, this.hiId);
    if (end > this.cursor) {
      this.be.begin();
      mvccMetrics.dbCompactionKeys.inc(
        this.be.run(DELETE_SUPERSEDED, this.cursor, end, this.target),
      );
    }
    this.cursor = end;
    const ms = (since: number) => Math.floor(performance.now() - since);
    if (end < this.hiId) {
      mvccMetrics.dbCompactionPauseMs.observe(ms(stepStart));
      return undefined;
    }
    mvccMetrics.dbCompactionTotalMs.observe(ms(this.startedAt));
    const done = this.target;
    this.target = -1;
    for (const w of this.waiters.splice(0)) w();
    return done;
  }
}
