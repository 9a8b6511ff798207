// Callers waiting for their proposal to be applied, keyed by request ID. The apply path
// triggers them in log order; a timeout or shutdown rejects whoever is still waiting.

interface Waiter<T, R> {
  resolve(v: T): void;
  reject(e: unknown): void;
  deadline: number;
  request: R;
}

/** Waiters for results T of requests R. */
export class Wait<T, R = undefined> {
  // Every waiter gets the same timeout, so the map's insertion order is deadline order: one
  // timer, armed for the oldest waiter, replaces a timer per request.
  #waiters = new Map<bigint, Waiter<T, R>>();
  #timer?: ReturnType<typeof setTimeout>;

  constructor(readonly timeoutMs: number, readonly timeoutError: () => unknown) {}

  register(id: bigint, request: R): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = performance.now() + this.timeoutMs;
      this.#waiters.set(id, { resolve, reject, deadline, request });
      this.#timer ??= setTimeout(() => this.#expire(), this.timeoutMs);
    });
  }

  has(id: bigint): boolean {
    return this.#waiters.has(id);
  }

  /** The request a waiter registered with, while it still waits. */
  request(id: bigint): R | undefined {
    return this.#waiters.get(id)?.request;
  }

  trigger(id: bigint, value: T): void {
    const w = this.#waiters.get(id);
    if (!w) return;
    this.#waiters.delete(id);
    w.resolve(value);
  }

  fail(id: bigint, err: unknown): void {
    const w = this.#waiters.get(id);
    if (!w) return;
    this.#waiters.delete(id);
    w.reject(err);
  }

  /** Rejects every waiter and disarms the timer (the server is stopping). */
  failAll(err: unknown): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const id of [...this.#waiters.keys()]) this.fail(id, err);
  }

  get size(): number {
    return this.#waiters.size;
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const [id, w] of this.#waiters) {
      if (w.deadline > now) {
        this.#timer = setTimeout(() => this.#expire(), w.deadline - now);
        return;
      }
      this.fail(id, this.timeoutError());
    }
  }
}

/** Request IDs unique across members and restarts: member ID bits, start time, a counter (etcd's idutil). */
export class RequestIdGenerator {
  #prefix: bigint;
  #suffix: bigint;

  constructor(memberId: bigint, nowMs: number) {
    this.#prefix = (memberId & 0xffffn) << 48n;
    this.#suffix = (BigInt(Math.floor(nowMs)) & 0xffffffffffn) << 8n;
  }

  next(): bigint {
    this.#suffix = (this.#suffix + 1n) & 0xffffffffffffn;
    return this.#prefix | this.#suffix;
  }
}
