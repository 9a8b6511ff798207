// Physical compaction: removing the rows a logical compaction made unreachable, a batch at a
// time so that applying entries is never blocked for long. As in etcd, the key index decides:
// its compaction at C names the rows at or below C that stay (each key's value at C), and every
// other row at or below C goes. Deletions ride in the batch transaction.
import { mvccMetrics } from "../metrics/mod.ts";
import type { Backend } from "./backend.ts";
import { idFloor } from "./history.ts";
import { IdSet } from "./tree_index.ts";

// mvcc_kept(id): whether the job's key index compaction kept row `id`.
const DELETE_SUPERSEDED = "DELETE FROM rev WHERE id >= ? AND id < ? AND NOT mvcc_kept(id)";

export class Compactor {
  private target = -1;
  private cursor = 0;
  private hiId = 0; // rows with id < hiId are at or below the target revision
  private waiters: (() => void)[] = [];
  private startedAt = 0; // performance.now() when the job began, for etcd's duration histograms
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
      mvccMetrics.dbCompactionKeys.inc(this.be.run(DELETE_SUPERSEDED, this.cursor, end));
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
    this.kept = new IdSet();
    for (const w of this.waiters.splice(0)) w();
    return done;
  }
}
