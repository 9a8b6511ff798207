// Virtual time for a whole-member simulation. While installed, the process's timers, clocks and
// Math.random are the simulation's: a timer is an event in a seeded queue, and time moves to the
// next event only once every microtask has run (the process is otherwise idle). Every event
// belongs to an owner — a member's incarnation, a client — found through an AsyncLocalStorage
// context that follows promises, so a crashed incarnation's timers never fire again.

import { AsyncLocalStorage } from "node:async_hooks";
import { setImmediate as realSetImmediate } from "node:timers";
import { prng } from "../../helpers/random.ts";

/** Who an event belongs to: one incarnation of a member, or a client. */
export interface Owner {
  readonly name: string;
  alive: boolean;
}

interface Timer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
  interval?: number;
  owner?: Owner;
  cancelled: boolean;
}

/** Wall-clock time at virtual time 0 (what Date.now() reads then). */
export const EPOCH_MS = Date.UTC(2024, 0, 1);

/** An error a timer or microtask threw with no one to catch it: the owner's process dies. */
export type Uncaught = (owner: Owner | undefined, err: unknown) => void;

export class VirtualTime {
  /** Milliseconds since the simulation started. */
  now = 0;
  /** Events run so far. */
  events = 0;
  readonly context = new AsyncLocalStorage<Owner>();
  readonly #heap: Timer[] = [];
  readonly #timers = new Map<number, Timer>();
  readonly #random: () => number;
  #seq = 0;
  #nextId = 1;
  #uninstall?: () => void;
  /** Real I/O waiting its turn, run one at a time before time moves on (see hold()). */
  readonly #held: Array<() => Promise<void>> = [];

  constructor(seed: number, readonly uncaught: Uncaught) {
    this.#random = prng(seed ^ 0x5eed1e55);
  }

  /** The owner of the code running now (undefined: the simulation itself). */
  get owner(): Owner | undefined {
    return this.context.getStore();
  }

  /** Runs `fn` as `owner`: the timers and promises it starts belong to it. */
  as<T>(owner: Owner, fn: () => T): T {
    return this.context.run(owner, fn);
  }

  /** Schedules `fn` after `delayMs` for `owner` (none: the simulation's own event). */
  schedule(delayMs: number, fn: () => void, owner?: Owner, interval?: number): number {
    const delay = Number.isFinite(delayMs) && delayMs >= 1 ? delayMs : 1;
    const t: Timer = {
      id: this.#nextId++,
      at: this.now + delay,
      seq: this.#seq++,
      fn,
      interval: interval === undefined ? undefined : delay,
      owner,
      cancelled: false,
    };
    this.#timers.set(t.id, t);
    this.#push(t);
    return t.id;
  }

  cancel(id: unknown): void {
    const t = typeof id === "number" ? this.#timers.get(id) : undefined;
    if (!t) return;
    t.cancelled = true;
    this.#timers.delete(id as number);
  }

  /**
   * Runs events in time order until `until()` holds (checked whenever the process is idle) or
   * the next event lies past `deadline`; time then stands at the deadline. Returns whether
   * `until` held.
   */
  async run(deadline: number, until: () => boolean = () => false): Promise<boolean> {
    for (;;) {
      await idle();
      const held = this.#held.shift();
      if (held) {
        await held();
        continue;
      }
      if (until()) return true;
      const t = this.#heap[0];
      if (!t || t.at > deadline) {
        this.now = Math.max(this.now, deadline);
        return false;
      }
      this.#pop();
      if (t.cancelled) continue;
      if (t.owner && !t.owner.alive) {
        this.#timers.delete(t.id);
        continue;
      }
      this.now = t.at;
      this.events++;
      if (t.interval !== undefined) {
        t.at += t.interval;
        t.seq = this.#seq++;
        this.#push(t);
      } else {
        this.#timers.delete(t.id);
      }
      this.#fire(t);
    }
  }

  /**
   * Real file I/O (a leader's snapshot database written and read back, a follower saving it)
   * takes no virtual time and must not race anything: `io` starts only when the process is
   * idle, alone, and time stands still until it settles; its result reaches the caller before
   * any other event or held I/O runs. However fast the machine, a seed replays the same.
   */
  hold<T>(io: () => Promise<T>): Promise<T> {
    const owner = this.owner;
    return new Promise<T>((resolve, reject) => {
      this.#held.push(async () => {
        const start = () => owner ? this.context.run(owner, io) : this.context.exit(io);
        await Promise.resolve().then(start).then(resolve, reject);
      });
    });
  }

  #fire(t: Timer): void {
    const call = () => {
      try {
        t.fn();
      } catch (err) {
        this.uncaught(t.owner, err);
      }
    };
    if (t.owner) this.context.run(t.owner, call);
    else this.context.exit(call);
  }

  /** Replaces the process's timers, clocks and Math.random until uninstall(). */
  install(): void {
    if (this.#uninstall) return;
    const g = globalThis as unknown as Record<string, unknown>;
    const saved = {
      setTimeout: g.setTimeout,
      setInterval: g.setInterval,
      clearTimeout: g.clearTimeout,
      clearInterval: g.clearInterval,
      Date: g.Date,
      random: Math.random,
      perfNow: performance.now,
    };
    const RealDate = Date;
    const wall = () => EPOCH_MS + this.now;
    // Date() with no argument and Date.now() read the virtual clock; everything else is Date's.
    const SimDate = function (this: unknown, ...args: unknown[]) {
      if (!new.target) return new RealDate(wall()).toString();
      return args.length === 0
        ? new RealDate(wall())
        : new (RealDate as unknown as new (...a: unknown[]) => Date)(...args);
    } as unknown as DateConstructor;
    Object.setPrototypeOf(SimDate, RealDate);
    (SimDate as { prototype: Date }).prototype = RealDate.prototype;
    SimDate.now = wall;
    type Handler = (...args: unknown[]) => void;
    g.setTimeout = (fn: Handler, ms?: number, ...args: unknown[]) =>
      this.schedule(ms ?? 0, () => fn(...args), this.owner);
    g.setInterval = (fn: Handler, ms?: number, ...args: unknown[]) =>
      this.schedule(ms ?? 0, () => fn(...args), this.owner, ms ?? 0);
    g.clearTimeout = g.clearInterval = (id: unknown) => this.cancel(id);
    g.Date = SimDate;
    Math.random = this.#random;
    performance.now = () => this.now;
    this.#uninstall = () => {
      Object.assign(g, {
        setTimeout: saved.setTimeout,
        setInterval: saved.setInterval,
        clearTimeout: saved.clearTimeout,
        clearInterval: saved.clearInterval,
        Date: saved.Date,
      });
      Math.random = saved.random;
      performance.now = saved.perfNow;
    };
  }

  uninstall(): void {
    this.#uninstall?.();
    this.#uninstall = undefined;
    this.#heap.length = 0;
    this.#timers.clear();
  }

  #less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(t: Timer): void {
    const h = this.#heap;
    h.push(t);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l], h[m])) m = l;
      if (r < h.length && this.#less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

/** Resolves once every pending microtask has run (a macrotask comes only after them). */
export function idle(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}
