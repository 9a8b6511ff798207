// Linearizable reads (etcd's linearizableReadLoop): concurrent readers share one ReadIndex
// round; each waits until the member has applied up to the index the leader confirmed.
import { serverMetrics } from "../metrics/mod.ts";

export interface ReadIndexRaft {
  /** Asks Raft for a read index; the answer arrives through `onReadState` with the same ctx. */
  requestReadIndex(ctx: Uint8Array): void;
  appliedIndex(): number;
}

interface Round {
  ctx: string;
  waiters: { resolve(): void; reject(e: unknown): void }[];
  retry?: ReturnType<typeof setInterval>;
}

/** A ReadIndex request can be lost (no leader yet, a dropped message): ask again this often. */
const RETRY_INTERVAL_MS = 500;

export class ReadIndexer {
  #counter = 0n;
  #inFlight?: Round;
  #next: Round["waiters"] = [];
  #appliedWaiters: { index: number; resolve(): void }[] = [];

  constructor(readonly raft: ReadIndexRaft) {}

  /** Resolves once a read issued now would observe every write acknowledged before it. */
  wait(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#next.push({ resolve, reject });
      if (!this.#inFlight) this.#startRound();
    });
  }

  #startRound(): void {
    if (this.#next.length === 0) return;
    this.#counter++;
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setBigUint64(0, this.#counter);
    const round: Round = { ctx: this.#counter.toString(), waiters: this.#next };
    round.retry = setInterval(() => this.raft.requestReadIndex(ctx), RETRY_INTERVAL_MS);
    this.#inFlight = round;
    this.#next = [];
    this.raft.requestReadIndex(ctx);
  }

  /** A ReadState from Raft: the confirmed index for the round with this ctx. */
  onReadState(index: number, ctx: Uint8Array): void {
    if (ctx.length !== 8 || !this.#inFlight) return;
    const id = new DataView(ctx.buffer, ctx.byteOffset, 8).getBigUint64(0).toString();
    // An answer to an earlier round: this member's reads queue up behind the leader (etcd
    // counts it as a slow read index).
    if (id !== this.#inFlight.ctx) return serverMetrics.slowReadIndex.inc();
    const { waiters } = this.#inFlight;
    clearInterval(this.#inFlight.retry);
    this.#inFlight = undefined;
    const release = () => waiters.forEach((w) => w.resolve());
    if (this.raft.appliedIndex() >= index) release();
    else this.#appliedWaiters.push({ index, resolve: release });
    this.#startRound();
  }

  /** Resolves once the member has applied up to `index`. */
  waitApplied(index: number): Promise<void> {
    if (this.raft.appliedIndex() >= index) return Promise.resolve();
    return new Promise((resolve) => this.#appliedWaiters.push({ index, resolve }));
  }

  /** The apply path moved forward. */
  onApplied(applied: number): void {
    if (this.#appliedWaiters.length === 0) return;
    const ready = this.#appliedWaiters.filter((w) => w.index <= applied);
    this.#appliedWaiters = this.#appliedWaiters.filter((w) => w.index > applied);
    ready.forEach((w) => w.resolve());
  }

  /** The round in flight got lost (leader change, timeout): fail its readers, start afresh. */
  abort(err: unknown): void {
    const round = this.#inFlight;
    this.#inFlight = undefined;
    clearInterval(round?.retry);
    round?.waiters.forEach((w) => w.reject(err));
    this.#startRound();
  }

  /** Re-sends the round in flight, e.g. after the leader changed and the request was dropped. */
  retry(): void {
    const round = this.#inFlight;
    if (!round) return;
    const ctx = new Uint8Array(8);
    new DataView(ctx.buffer).setBigUint64(0, BigInt(round.ctx));
    this.raft.requestReadIndex(ctx);
  }
}
