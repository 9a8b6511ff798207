// gRPC keepalive's two halves on a fake clock: the server's pings to idle connections
// (KeepalivePinger) and the policy on the client's pings (PingStrikes), step by step as grpc-go
// 1.33 takes them.
import assert from "node:assert/strict";
import { type Clock, KeepalivePinger, PingStrikes } from "../../src/h2/mod.ts";
import { FakeTimers } from "../helpers/watcher_hub.ts";

function fakeClock(): { clock: Clock; timers: FakeTimers; step(ms: number, by?: number): void } {
  const timers = new FakeTimers();
  const clock: Clock = {
    now: () => timers.now,
    setTimeout: (fn, ms) => timers.setTimeout(fn, ms),
    clearTimeout: (h) => timers.clearTimeout(h),
  };
  // Moves time on in small steps, so that timers run at (about) their own time.
  const step = (ms: number, by = 10) => {
    for (let t = 0; t < ms; t += by) timers.advance(Math.min(by, ms - t));
  };
  return { clock, timers, step };
}

function pinger(intervalMs: number, timeoutMs: number) {
  const { clock, timers, step } = fakeClock();
  const events: string[] = [];
  const p = new KeepalivePinger(
    { intervalMs, timeoutMs },
    {
      ping: () => events.push(`ping@${timers.now}`),
      close: () => events.push(`close@${timers.now}`),
    },
    clock,
  );
  return { p, events, timers, step };
}

Deno.test("keepalive: an idle connection is pinged each interval while it answers", () => {
  const { p, events, timers, step } = pinger(1000, 500);
  step(999);
  assert.deepEqual(events, []);
  step(1);
  assert.deepEqual(events, ["ping@1000"]);
  // The answer arrives: the next ping is an interval after it.
  step(100);
  p.read();
  step(1100);
  assert.deepEqual(events, ["ping@1000", "ping@2100"]);
  p.read();
  step(1000);
  assert.deepEqual(events, ["ping@1000", "ping@2100", "ping@3200"]);
  p.stop();
  assert.equal(timers.pending, 0);
});

Deno.test("keepalive: a connection that stays silent after the ping is closed", () => {
  const { events, timers, step } = pinger(1000, 500);
  step(3000);
  assert.deepEqual(events, ["ping@1000", "close@1500"]);
  assert.equal(timers.pending, 0);
});

Deno.test("keepalive: a timeout longer than the interval waits it out without a second ping", () => {
  const { events, step } = pinger(1000, 2500);
  step(5000);
  assert.deepEqual(events, ["ping@1000", "close@3500"]);
});

Deno.test("keepalive: reads keep a busy connection from being pinged", () => {
  const { p, events, step } = pinger(1000, 500);
  for (let i = 0; i < 20; i++) {
    step(300);
    p.read();
  }
  assert.deepEqual(events, []);
  step(1000);
  assert.deepEqual(events, ["ping@7000"]);
});

Deno.test("ping policy: the third ping sooner than min-time with a stream open ends the connection", () => {
  const { clock, step } = fakeClock();
  const strikes = new PingStrikes(1000, clock);
  assert.equal(strikes.ping(1), false); // the first ping is never a strike
  step(100);
  assert.equal(strikes.ping(1), false); // strike 1
  step(100);
  assert.equal(strikes.ping(1), false); // strike 2
  step(100);
  assert.equal(strikes.ping(1), true); // strike 3: GOAWAY
});

Deno.test("ping policy: pings at min-time or slower are fine; data sent forgives a ping", () => {
  const { clock, step } = fakeClock();
  const strikes = new PingStrikes(1000, clock);
  for (let i = 0; i < 10; i++) {
    assert.equal(strikes.ping(1), false);
    step(1000);
  }
  // Fast pings, each after the server wrote something: no strikes at all.
  for (let i = 0; i < 10; i++) {
    strikes.sent();
    assert.equal(strikes.ping(1), false);
    step(10);
  }
  // Without writes they count again: two strikes are allowed, the third is not.
  assert.equal(strikes.ping(1), false);
  assert.equal(strikes.ping(1), false);
  assert.equal(strikes.ping(1), true);
});

Deno.test("ping policy: without open streams, pings less than two hours apart are strikes", () => {
  const { clock, step } = fakeClock();
  const strikes = new PingStrikes(1000, clock);
  assert.equal(strikes.ping(0), false);
  step(60_000);
  assert.equal(strikes.ping(0), false);
  step(60_000);
  assert.equal(strikes.ping(0), false);
  step(60_000, 1000);
  assert.equal(strikes.ping(0), true);
  const patient = new PingStrikes(1000, clock);
  for (let i = 0; i < 5; i++) {
    assert.equal(patient.ping(0), false);
    step(2 * 60 * 60 * 1000, 60_000);
  }
});
