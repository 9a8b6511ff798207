// Auto-compaction (etcd's v3compactor, --auto-compaction-mode/-retention). Every member runs
// the loop; a member that is not the leader is paused (etcd pauses it on every leadership
// change), so only the leader proposes compactions, through raft like a client's Compact.
//
// periodic: every min(retention, 1h)/10 the current revision is recorded; once `retention` has
// passed since the start (then every min(retention, 1h)) the revision recorded `retention` ago
// is compacted. revision: every 5 minutes, `current - retention` is compacted if it changed.
import type { Logger } from "../log/mod.ts";
import { formatGoDuration } from "../config/mod.ts";
import { MvccError } from "../mvcc/mod.ts";

/** etcd's revInterval: how often revision mode looks at the current revision. */
export const REVISION_INTERVAL_MS = 5 * 60_000;
const HOUR_MS = 3600_000;

/** Time as the loops see it; tests drive a fake one. */
export interface Clock {
  now(): number;
  /** Resolves true after `ms`, or false at once when `signal` aborts (then or later). */
  sleep(ms: number, signal: AbortSignal): Promise<boolean>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const timer = setTimeout(() => resolve(true), ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve(false);
      }, { once: true });
    }),
};

export interface CompactorDeps {
  log: Logger;
  /** The store's current revision. */
  rev(): number;
  /** Compacts at `rev` through raft; resolves once applied. */
  compact(rev: number): Promise<unknown>;
  clock?: Clock;
}

export interface AutoCompactor {
  run(): void;
  stop(): void;
  /** Leadership lost: keep recording revisions, compact nothing. */
  pause(): void;
  resume(): void;
}

/** The compactor for the flags, or undefined when auto-compaction is off (retention 0). */
export function createCompactor(
  mode: string,
  retention: number,
  deps: CompactorDeps,
): AutoCompactor | undefined {
  // etcd spins on a negative retention; here it is off, like 0.
  if (!(retention > 0)) return undefined;
  return mode === "revision"
    ? new RevisionCompactor(retention, deps)
    : new PeriodicCompactor(retention, deps);
}

abstract class Loop implements AutoCompactor {
  protected paused = false;
  protected readonly clock: Clock;
  readonly #stop = new AbortController();

  constructor(protected readonly deps: CompactorDeps) {
    this.clock = deps.clock ?? realClock;
  }

  run(): void {
    void this.loop(this.#stop.signal);
  }
  stop(): void {
    this.#stop.abort();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }

  protected abstract loop(signal: AbortSignal): Promise<void>;

  /** Compacts at `rev`; a revision compacted already counts as done, as in etcd. */
  protected async compact(rev: number): Promise<Error | undefined> {
    try {
      await this.deps.compact(rev);
    } catch (err) {
      if (!(err instanceof MvccError && err.reason === "compacted")) return err as Error;
    }
  }

  protected notice(text: string, msg: string, fields: Record<string, unknown>): void {
    this.deps.log.notice({ pkg: "compactor", text, msg, fields });
  }

  /** etcd's capnslog says it in two notices, its zap logger in one warning. */
  protected failed(rev: number, err: Error, msg: string, fields: Record<string, unknown>) {
    const retry = formatGoDuration(this.retryMs);
    const log = this.deps.log;
    log.notice({
      pkg: "compactor",
      text: `Failed auto-compaction at revision ${rev} (${err.message})`,
      msg,
      fields: { revision: rev, ...fields, "retry-interval": retry, error: err.message },
      zapLevel: "warn",
    });
    log.notice({ pkg: "compactor", text: `Retry after ${retry}`, only: "capnslog" });
  }

  protected abstract get retryMs(): number;
}

/** etcd's Periodic compactor; `period` in milliseconds. */
class PeriodicCompactor extends Loop {
  /** Revisions seen, one per retry interval; [0] is the one `period` ago. */
  readonly revs: number[] = [];

  constructor(readonly period: number, deps: CompactorDeps) {
    super(deps);
  }

  /** Go divides durations in whole nanoseconds. */
  protected get retryMs(): number {
    return Math.floor(Math.round(Math.min(this.period, HOUR_MS) * 1e6) / 10) / 1e6;
  }

  protected async loop(signal: AbortSignal): Promise<void> {
    const { clock, period } = this;
    const retry = this.retryMs;
    const retentions = Math.floor(Math.round(period * 1e6) / Math.round(retry * 1e6)) + 1;
    const fields = { "compact-period": formatGoDuration(period) };
    let lastSuccess = clock.now();
    let base = period;
    for (;;) {
      this.revs.push(this.deps.rev());
      if (this.revs.length > retentions) this.revs.shift();
      if (!await clock.sleep(retry, signal)) return;
      if (this.paused || clock.now() - lastSuccess < base) continue;
      // The first compaction waits a whole period, later ones at most an hour.
      base = Math.min(period, HOUR_MS);
      const rev = this.revs[0];
      this.notice(
        `Starting auto-compaction at revision ${rev} (retention: ${fields["compact-period"]})`,
        "starting auto periodic compaction",
        { revision: rev, ...fields },
      );
      const err = await this.compact(rev);
      if (err) {
        this.failed(rev, err, "failed auto periodic compaction", fields);
        continue;
      }
      // etcd reports the time since the previous success as `took`.
      const took = formatGoDuration(clock.now() - lastSuccess);
      this.notice(
        `Finished auto-compaction at revision ${rev}`,
        "completed auto periodic compaction",
        {
          revision: rev,
          ...fields,
          took,
        },
      );
      lastSuccess = clock.now();
    }
  }
}

/** etcd's Revision compactor: keeps the last `retention` revisions. */
class RevisionCompactor extends Loop {
  constructor(readonly retention: number, deps: CompactorDeps) {
    super(deps);
  }

  protected get retryMs(): number {
    return REVISION_INTERVAL_MS;
  }

  protected async loop(signal: AbortSignal): Promise<void> {
    const { clock, retention } = this;
    const fields = { "revision-compaction-retention": retention };
    let prev = 0;
    for (;;) {
      if (!await clock.sleep(REVISION_INTERVAL_MS, signal)) return;
      if (this.paused) continue;
      const rev = this.deps.rev() - retention;
      if (rev <= 0 || rev === prev) continue;
      const start = clock.now();
      this.notice(
        `Starting auto-compaction at revision ${rev} (retention: ${retention} revisions)`,
        "starting auto revision compaction",
        { revision: rev, ...fields },
      );
      const err = await this.compact(rev);
      if (err) {
        this.failed(rev, err, "failed auto revision compaction", fields);
        continue;
      }
      prev = rev;
      this.notice(
        `Finished auto-compaction at revision ${rev}`,
        "completed auto revision compaction",
        {
          revision: rev,
          ...fields,
          took: formatGoDuration(clock.now() - start),
        },
      );
    }
  }
}
