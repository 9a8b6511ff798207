// Callers waiting for their proposal to be applied, keyed by request ID. The apply path
// triggers them in log order; a timeout or shutdown rejects whoever is still waiting.

interface Waiter<T> {
  resolve(v: T): void;
  reject(e: unknown): void;
}

export class Wait<T> {
  #waiters = new Map<bigint, Waiter<T>>();

  register(id: bigint): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#waiters.set(id, { resolve, reject }));
  }

  has(id: bigint): boolean {
    return this.#waiters.has(id);
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

  failAll(err: unknown): void {
    for (const id of [...this.#waiters.keys()]) this.fail(id, err);
  }

  get size(): number {
    return this.#waiters.size;
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
