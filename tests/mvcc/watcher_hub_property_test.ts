import assert from "node:assert/strict";
import fc from "fast-check";
import { createWatcherHub } from "../../src/mvcc/watcher_hub.ts";
import { type Event, EventType, FilterType } from "../../src/mvcc/watcher_hub_types.ts";
import {
  Consumer,
  dec,
  enc,
  FakeStore,
  FakeTimers,
  inRange,
  type Op,
  tick,
  write,
} from "../helpers/watcher_hub.ts";

const KEYS = ["a", "b", "c", "d", "e"];
const STREAMS = 3;

type Command =
  | { kind: "write"; ops: Op[] }
  | {
    kind: "create";
    stream: number;
    from: number;
    span: number; // 0: single key, 1..: [from, from + span), 9: every key from `from` on
    back: number; // start this many revisions back (0: now)
    filter: number; // 0 none, 1 NOPUT, 2 NODELETE
    prevKv: boolean;
  }
  | { kind: "cancel"; stream: number; nth: number }
  | { kind: "hold"; stream: number; hold: boolean }
  | { kind: "release"; stream: number; n: number }
  | { kind: "timers" }
  | { kind: "tick" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.constantFrom(...KEYS).map((k) => ({ put: k })),
  fc.constantFrom(...KEYS).map((k) => ({ del: k })),
);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.array(opArb, { minLength: 1, maxLength: 3 }).map((ops) => ({
      kind: "write" as const,
      ops,
    })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("create" as const),
      stream: fc.nat(STREAMS - 1),
      from: fc.nat(KEYS.length - 1),
      span: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 }), fc.constant(9)),
      back: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
      filter: fc.nat(2),
      prevKv: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("cancel" as const),
      stream: fc.nat(STREAMS - 1),
      nth: fc.nat(5),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("hold" as const),
      stream: fc.nat(STREAMS - 1),
      hold: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("release" as const),
      stream: fc.nat(STREAMS - 1),
      n: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: "timers" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "tick" as const }) },
);

interface Expect {
  id: number;
  key: Uint8Array;
  end: Uint8Array;
  start: number;
  filter: number;
  prevKv: boolean;
  canceled: boolean;
}

const matches = (w: Expect, ev: Event) =>
  ev.kv.modRevision >= w.start && inRange(ev.kv.key, w.key, w.end) &&
  !(w.filter === 1 && ev.type === EventType.PUT) &&
  !(w.filter === 2 && ev.type === EventType.DELETE);

Deno.test("property: every watcher gets exactly its events, in order, whatever the consumers do", async () => {
  // Runs where some watcher fell behind and caught up from history: the interesting ones.
  let fellBehind = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(commandArb, { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 60, max: 3000 }),
      fc.integer({ min: 1, max: 6 }),
      async (commands, streamBufferBytes, catchUpBatchEvents) => {
        const store = new FakeStore();
        const timers = new FakeTimers();
        const hub = createWatcherHub(store, { timers, streamBufferBytes, catchUpBatchEvents });
        const consumers = Array.from({ length: STREAMS }, () => new Consumer());
        const streams = consumers.map((c) => hub.createStream(c.send));
        const watchers: Expect[][] = consumers.map(() => []);
        let behind = false;

        for (const c of commands) {
          switch (c.kind) {
            case "write":
              write(store, hub, ...c.ops);
              if (hub.stats().unsyncedWatchers > 0) behind = true;
              break;
            case "create": {
              const key = enc(KEYS[c.from]);
              const end = c.span === 0
                ? new Uint8Array()
                : c.span === 9
                ? new Uint8Array([0])
                : enc(String.fromCharCode(KEYS[c.from].charCodeAt(0) + c.span));
              const startRevision = c.back === 0 ? 0 : Math.max(1, store.rev - c.back + 1);
              const w: Expect = {
                id: watchers[c.stream].length,
                key,
                end,
                start: startRevision || store.rev + 1,
                filter: c.filter,
                prevKv: c.prevKv,
                canceled: false,
              };
              watchers[c.stream].push(w);
              const filters = c.filter === 1
                ? [FilterType.NOPUT]
                : c.filter === 2
                ? [FilterType.NODELETE]
                : [];
              streams[c.stream].create({
                key,
                rangeEnd: end,
                startRevision,
                filters,
                prevKv: c.prevKv,
              });
              break;
            }
            case "cancel": {
              const w = watchers[c.stream][c.nth];
              if (w && !w.canceled) {
                w.canceled = true;
                streams[c.stream].cancel(w.id);
              }
              break;
            }
            case "hold":
              consumers[c.stream].hold = c.hold;
              break;
            case "release":
              consumers[c.stream].release(c.n);
              break;
            case "timers":
              timers.runDue();
              break;
            case "tick":
              await tick();
              break;
          }
        }

        // Let every consumer read everything.
        for (const c of consumers) c.hold = false;
        for (let quiet = 0, i = 0; quiet < 2; i++) {
          assert.ok(i < 10_000, "hub did not settle");
          for (const c of consumers) c.release();
          await tick();
          const moved = timers.runDue() + consumers.reduce((n, c) => n + c.heldCount, 0);
          quiet = moved === 0 ? quiet + 1 : 0;
        }

        const stats = hub.stats();
        assert.equal(stats.unsyncedWatchers, 0);
        assert.equal(stats.bufferedBytes, 0);

        for (let s = 0; s < STREAMS; s++) {
          const got = consumers[s];
          for (const w of watchers[s]) {
            const expected = store.log.filter((ev) => matches(w, ev));
            const responses = got.received.filter((r) => r.watchId === w.id);
            const cancelAt = responses.findIndex((r) => r.canceled);
            if (w.canceled) assert.equal(cancelAt, responses.length - 1, "events after cancel");
            else assert.equal(cancelAt, -1);
            const events = responses.flatMap((r) => r.events);
            // Exactly the expected events (a prefix of them if canceled), same order.
            const want = w.canceled ? expected.slice(0, events.length) : expected;
            assert.equal(events.length, want.length, `watcher ${s}/${w.id} event count`);
            events.forEach((ev, i) => {
              assert.equal(ev.kv, want[i].kv);
              assert.equal(ev.prevKv, w.prevKv ? want[i].prevKv : undefined);
            });
            // A revision never spans two responses.
            const seen = new Set<number>();
            for (const r of responses) {
              const revs = new Set(r.events.map((e) => e.kv.modRevision));
              for (const rev of revs) {
                assert.ok(!seen.has(rev), `revision ${rev} split for ${dec(w.key)}`);
                seen.add(rev);
              }
            }
          }
        }
        for (const st of streams) st.close();
        if (behind) fellBehind++;
      },
    ),
    { numRuns: 200 },
  );
  assert.ok(fellBehind >= 20, `only ${fellBehind} runs exercised catch-up`);
});

Deno.test("a consumer that never reads: buffered memory stays bounded and writers go on", async () => {
  const store = new FakeStore();
  const timers = new FakeTimers();
  const streamBufferBytes = 64 * 1024;
  const hub = createWatcherHub(store, { timers, streamBufferBytes });
  const stuck = new Consumer();
  stuck.hold = true;
  const fast = new Consumer();
  const stuckStream = hub.createStream(stuck.send);
  const fastStream = hub.createStream(fast.send);
  for (let i = 0; i < 20; i++) {
    stuckStream.create({ key: enc("k"), rangeEnd: enc("l"), prevKv: true });
  }
  fastStream.create({ key: enc("k"), rangeEnd: enc("l") });

  const value = "v".repeat(200);
  let maxBuffered = 0;
  const writes = 20_000;
  for (let i = 0; i < writes; i++) {
    // notify() is synchronous: a stuck consumer cannot hold a write back.
    write(store, hub, { put: `k${i % 50}`, value });
    if (i % 100 === 0) {
      await tick();
      timers.runDue();
    }
    maxBuffered = Math.max(maxBuffered, hub.stats().bufferedBytes);
  }
  await tick();
  timers.runDue();

  // The stuck stream holds at most its buffer plus one response; the fast one drains.
  // Every stream holds at most its buffer plus one response, however many writes go by.
  const oneResponse = 1024;
  assert.ok(maxBuffered <= 2 * (streamBufferBytes + oneResponse), `buffered ${maxBuffered}`);
  const stats = hub.stats();
  assert.equal(stats.unsyncedWatchers, 20);
  assert.ok(stats.bufferedResponses < 400, `${stats.bufferedResponses} responses buffered`);
  assert.equal(fast.flat(0).length, writes);

  // Once the client reads again, its watchers catch up from history, in order, complete.
  stuck.hold = false;
  const busy = () => {
    const st = hub.stats();
    return st.unsyncedWatchers > 0 || st.bufferedResponses > 0 || stuck.heldCount > 0;
  };
  for (let i = 0; i < 100_000 && busy(); i++) {
    stuck.release();
    await tick();
    timers.runDue();
  }
  for (let id = 0; id < 20; id++) {
    const revs = stuck.flat(id).map(([, rev]) => rev);
    assert.equal(revs.length, writes);
    assert.ok(revs.every((r, i) => r === i + 2));
  }
  stuckStream.close();
  fastStream.close();
});
