// The auto-compaction schedules against etcd's own compactor tests (v3compactor
// periodic_test.go, revision_test.go): the same fake revision source (each look at the
// revision moves it on by one), the same steps of a fake clock, the same revisions compacted.
import assert from "node:assert/strict";
import { type Clock, createCompactor, REVISION_INTERVAL_MS } from "../../src/server/compactor.ts";
import { MvccError } from "../../src/mvcc/mod.ts";
import { testLog } from "../helpers/log.ts";

/** One loop's clock: the test waits for the loop to sleep, then wakes it at the due time. */
class FakeClock implements Clock {
  t = 0;
  #sleeper?: { due: number; wake(ok: boolean): void };
  #onSleep?: () => void;

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      signal.addEventListener("abort", () => resolve(false), { once: true });
      this.#sleeper = { due: this.t + ms, wake: resolve };
      this.#onSleep?.();
    });
  }

  /** Resolves once the loop is asleep. */
  asleep(): Promise<void> {
    if (this.#sleeper) return Promise.resolve();
    return new Promise((resolve) => this.#onSleep = resolve);
  }

  /** Waits for the loop to sleep, moves time to its wake-up and wakes it. */
  async advance(): Promise<void> {
    await this.asleep();
    const s = this.#sleeper!;
    this.#sleeper = undefined;
    this.#onSleep = undefined;
    this.t = s.due;
    s.wake(true);
  }
}

/** etcd's fakeRevGetter: every look returns the next revision. */
function setup(mode: string, retention: number) {
  const clock = new FakeClock();
  const state = { rev: 0, compacted: [] as number[], fail: undefined as Error | undefined };
  const tl = testLog();
  const c = createCompactor(mode, retention, {
    log: tl.log,
    clock,
    rev: () => ++state.rev,
    compact: (rev) => {
      state.compacted.push(rev);
      return state.fail ? Promise.reject(state.fail) : Promise.resolve();
    },
  })!;
  return { c, clock, state, lines: tl.lines };
}

const HOUR = 3600_000;

Deno.test("periodic, 2 hours: first at revision 1 after 2 hours, then every hour", async () => {
  const { c, clock, state, lines } = setup("periodic", 2 * HOUR);
  c.run();
  // 21 samples (2h / 6m + 1) before the very first compaction.
  for (let i = 0; i < 21; i++) await clock.advance();
  await clock.asleep();
  assert.deepEqual(state.compacted, [1]);
  for (let hour = 1; hour <= 3; hour++) {
    for (let j = 0; j < 10; j++) await clock.advance();
    await clock.asleep();
    assert.deepEqual(state.compacted.at(-1), hour * 10, `hour ${hour}`);
  }
  assert.equal(state.compacted.length, 4);
  assert.match(
    lines[0],
    / N \| compactor: Starting auto-compaction at revision 1 \(retention: 2h0m0s\)$/,
  );
  assert.match(lines[1], / N \| compactor: Finished auto-compaction at revision 1$/);
  c.stop();
});

Deno.test("periodic, 5 minutes: every 5 minutes, the revision 5 minutes old", async () => {
  const { c, clock, state, lines } = setup("periodic", 5 * 60_000);
  c.run();
  for (let i = 0; i < 11; i++) await clock.advance();
  await clock.asleep();
  assert.deepEqual(state.compacted, [1]);
  for (let i = 1; i <= 3; i++) {
    for (let j = 0; j < 10; j++) await clock.advance();
    await clock.asleep();
    assert.equal(state.compacted.at(-1), i * 10);
  }
  assert.match(lines[0], /Starting auto-compaction at revision 1 \(retention: 5m0s\)$/);
  c.stop();
});

Deno.test("periodic: paused (not the leader) it records revisions but compacts nothing", async () => {
  const { c, clock, state } = setup("periodic", HOUR);
  c.run();
  c.pause();
  for (let i = 0; i < 30; i++) await clock.advance();
  await clock.asleep();
  assert.deepEqual(state.compacted, []);
  c.resume();
  await clock.advance();
  await clock.asleep();
  // The window still spans the last hour: the revision recorded 10 intervals before.
  assert.deepEqual(state.compacted, [21]);
  c.stop();
});

Deno.test("periodic: a failure is retried one interval later; 'compacted' counts as done", async () => {
  const { c, clock, state, lines } = setup("periodic", 10_000);
  state.fail = new Error("etcdserver: request timed out");
  c.run();
  for (let i = 0; i < 10; i++) await clock.advance();
  await clock.asleep();
  assert.deepEqual(state.compacted, [1]);
  assert.match(
    lines.at(-2)!,
    / N \| compactor: Failed auto-compaction at revision 1 \(etcdserver: request timed out\)$/,
  );
  assert.match(lines.at(-1)!, / N \| compactor: Retry after 1s$/);
  state.fail = new MvccError("compacted");
  await clock.advance();
  await clock.asleep();
  assert.deepEqual(state.compacted, [1, 1]);
  assert.match(lines.at(-1)!, /Finished auto-compaction at revision 1$/);
  // The next one waits a whole interval (10 s) from that success.
  state.fail = undefined;
  for (let i = 0; i < 9; i++) await clock.advance();
  await clock.asleep();
  assert.equal(state.compacted.length, 2);
  await clock.advance();
  await clock.asleep();
  assert.equal(state.compacted.length, 3);
  c.stop();
});

Deno.test("revision: every 5 minutes, current minus retention, skipping a repeat", async () => {
  const { c, clock, state, lines } = setup("revision", 10);
  c.run();
  await clock.advance(); // revision 1: 1 - 10 <= 0, nothing
  await clock.asleep();
  assert.deepEqual(state.compacted, []);
  state.rev = 99;
  await clock.advance(); // 100 - 10
  await clock.asleep();
  assert.deepEqual(state.compacted, [90]);
  assert.equal(clock.t, 2 * REVISION_INTERVAL_MS);
  state.rev = 99;
  await clock.advance(); // 90 again: skipped
  await clock.asleep();
  assert.deepEqual(state.compacted, [90]);
  state.rev = 199;
  await clock.advance();
  await clock.asleep();
  assert.deepEqual(state.compacted, [90, 190]);
  assert.match(
    lines[0],
    / N \| compactor: Starting auto-compaction at revision 90 \(retention: 10 revisions\)$/,
  );
  assert.match(lines[1], / N \| compactor: Finished auto-compaction at revision 90$/);
  c.stop();
});

Deno.test("revision: paused it compacts nothing until resumed", async () => {
  const { c, clock, state } = setup("revision", 10);
  state.rev = 99;
  c.run();
  c.pause();
  await clock.advance();
  await clock.asleep();
  assert.deepEqual(state.compacted, []);
  c.resume();
  state.rev = 99;
  await clock.advance();
  await clock.asleep();
  assert.deepEqual(state.compacted, [90]);
  c.stop();
});

Deno.test("retention 0 (or negative) means no compactor", () => {
  const deps = { log: testLog().log, rev: () => 1, compact: () => Promise.resolve() };
  assert.equal(createCompactor("periodic", 0, deps), undefined);
  assert.equal(createCompactor("revision", 0, deps), undefined);
  assert.equal(createCompactor("periodic", -3600_000, deps), undefined);
});
