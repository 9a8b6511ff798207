// Test doubles for the watcher hub: an in-memory revisioned store with history, fake timers
// and recording consumers.

import {
  type Event,
  EventType,
  type KeyValue,
  type WatcherHub,
  type WatcherHubStore,
  type WatcherHubTimers,
  type WatchResponse,
} from "../../src/mvcc/watcher_hub_types.ts";

export const enc = (s: string) => new TextEncoder().encode(s);
export const dec = (b: Uint8Array) => new TextDecoder().decode(b);

const cmp = (a: Uint8Array, b: Uint8Array) => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
};

export function inRange(key: Uint8Array, start: Uint8Array, end: Uint8Array): boolean {
  if (end.length === 0) return cmp(key, start) === 0;
  if (end.length === 1 && end[0] === 0) return cmp(key, start) >= 0;
  return cmp(key, start) >= 0 && cmp(key, end) < 0;
}

export type Op = { put: string; value?: string } | { del: string };

export class FakeStore implements WatcherHubStore {
  rev = 1;
  compactRev = 0;
  log: Event[] = [];
  historyCalls = 0;
  #live = new Map<string, KeyValue>();

  currentRevision(): number {
    return this.rev;
  }

  compactRevision(): number {
    return this.compactRev;
  }

  history(key: Uint8Array, end: Uint8Array, from: number, to: number, limit: number) {
    this.historyCalls++;
    const events: Event[] = [];
    for (const ev of this.log) {
      const r = ev.kv.modRevision;
      if (r < from || r > to || !inRange(ev.kv.key, key, end)) continue;
      events.push(ev);
      if (limit > 0 && events.length === limit) break;
    }
    return { events };
  }

  // Applies one txn (one revision) and returns its events; deletes of missing keys vanish.
  apply(ops: Op[]): { rev: number; events: Event[] } {
    const rev = this.rev + 1;
    const events: Event[] = [];
    for (const op of ops) {
      if ("put" in op) {
        const prev = this.#live.get(op.put);
        const kv: KeyValue = {
          key: enc(op.put),
          createRevision: prev?.createRevision ?? rev,
          modRevision: rev,
          version: (prev?.version ?? 0) + 1,
          value: enc(op.value ?? `v${rev}`),
          lease: 0n,
        };
        this.#live.set(op.put, kv);
        events.push(prev ? { type: EventType.PUT, kv, prevKv: prev } : { type: EventType.PUT, kv });
      } else {
        const prev = this.#live.get(op.del);
        if (!prev) continue;
        this.#live.delete(op.del);
        const kv: KeyValue = {
          key: enc(op.del),
          createRevision: 0,
          modRevision: rev,
          version: 0,
          value: new Uint8Array(),
          lease: 0n,
        };
        events.push({ type: EventType.DELETE, kv, prevKv: prev });
      }
    }
    if (events.length === 0) return { rev: this.rev, events };
    this.rev = rev;
    this.log.push(...events);
    return { rev, events };
  }
}

// Writes through the store and tells the hub, as the apply path does.
export function write(store: FakeStore, hub: WatcherHub, ...ops: Op[]): number {
  const { rev, events } = store.apply(ops);
  if (events.length > 0) hub.notify(rev, events);
  return rev;
}

export class FakeTimers implements WatcherHubTimers {
  now = 0;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pending(): number {
    return this.#timers.size;
  }

  // Runs every timer due by now (also ones they schedule), earliest first.
  runDue(): number {
    let ran = 0;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) {
        if (e[1].at <= this.now && (!next || e[1].at < next[1].at)) next = e;
      }
      if (!next) return ran;
      this.#timers.delete(next[0]);
      next[1].fn();
      ran++;
    }
  }

  advance(ms: number): void {
    this.now += ms;
    this.runDue();
  }
}

// Lets queued microtasks (send completions) run.
export const tick = () => new Promise<void>((r) => setTimeout(r, 0));

// Runs due timers and microtasks until nothing moves.
export async function settle(timers: FakeTimers, rounds = 10_000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await tick();
    if (timers.runDue() === 0) {
      await tick();
      if (timers.runDue() === 0) return;
    }
  }
  throw new Error("did not settle");
}

// A consumer recording what it receives. In `hold` mode each send stays pending until
// released, as a client that does not read.
export class Consumer {
  received: WatchResponse[] = [];
  #held: (() => void)[] = [];
  hold = false;

  send = (resp: WatchResponse): Promise<void> | void => {
    this.received.push(resp);
    if (!this.hold) return;
    return new Promise<void>((resolve) => this.#held.push(resolve));
  };

  get heldCount(): number {
    return this.#held.length;
  }

  release(n = Infinity): void {
    while (n-- > 0 && this.#held.length > 0) this.#held.shift()!();
  }

  // Responses for one watch ID that carry events.
  eventsOf(watchId: number): WatchResponse[] {
    return this.received.filter((r) => r.watchId === watchId && r.events.length > 0);
  }

  // [key, modRevision, type] of every event delivered to a watch ID, in order.
  flat(watchId: number): [string, number, EventType][] {
    return this.eventsOf(watchId).flatMap((r) =>
      r.events.map((e) => [dec(e.kv.key), e.kv.modRevision, e.type] as [string, number, EventType])
    );
  }
}
