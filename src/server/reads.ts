// The read barriers the member's operations wait on: a linearizable read (a ReadIndex round,
// then the apply path catching up to it) and "everything committed is applied" (etcd's
// applyWait), each bounded by the error etcd answers when it takes too long.
import { Errors } from "../errors/mod.ts";
import { serverMetrics } from "../metrics/mod.ts";
import type { ReadIndexer } from "./read_index.ts";
import { withTimeout } from "./timeout.ts";

export interface ReadBarrier {
  /** Waits until a read here observes every write acknowledged before the call. */
  linearizableRead(timeoutMs?: number): Promise<void>;
}

export interface ReadsDeps {
  indexer: ReadIndexer;
  commitIndex(): number;
  stopped(): boolean;
  requestTimeoutMs: number;
}

export class Reads implements ReadBarrier {
  constructor(readonly deps: ReadsDeps) {}

  linearizableRead(timeoutMs = this.deps.requestTimeoutMs): Promise<void> {
    if (this.deps.stopped()) return Promise.reject(Errors.stopped());
    return withTimeout(this.deps.indexer.wait(), timeoutMs, () => {
      serverMetrics.slowReadIndex.inc(); // etcd counts a timed-out read index as slow
      return Errors.timeout();
    });
  }

  /**
   * Waits until everything committed so far is applied (etcd's applyWait before answering a
   * forwarded lease request): a lease a follower just saw granted is known here too.
   */
  waitAppliedCommitted(timeoutMs: number): Promise<void> {
    const applied = this.deps.indexer.waitApplied(this.deps.commitIndex());
    return withTimeout(applied, timeoutMs, () => Errors.timeoutWaitAppliedIndex());
  }
}
