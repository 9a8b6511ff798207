import assert from "node:assert/strict";
import { createWatcherHub } from "../../src/mvcc/watcher_hub.ts";
import {
  EventType,
  FilterType,
  type WatcherHubOptions,
  type WatchResponse,
} from "../../src/mvcc/watcher_hub_types.ts";
import {
  Consumer,
  dec,
  enc,
  FakeStore,
  FakeTimers,
  settle,
  write,
} from "../helpers/watcher_hub.ts";

const { PUT, DELETE } = EventType;

function setup(options: Omit<WatcherHubOptions, "timers"> = {}) {
  const store = new FakeStore();
  const timers = new FakeTimers();
  const hub = createWatcherHub(store, { random: () => 0, ...options, timers });
  const consumer = new Consumer();
  const stream = hub.createStream(consumer.send);
  return { store, timers, hub, consumer, stream };
}

const summary = (r: WatchResponse) => ({
  id: r.watchId,
  rev: r.header.revision,
  ...(r.created ? { created: true } : {}),
  ...(r.canceled ? { canceled: true } : {}),
  ...(r.compactRevision ? { compact: r.compactRevision } : {}),
  ...(r.cancelReason ? { reason: r.cancelReason } : {}),
  ...(r.fragment ? { fragment: true } : {}),
  ...(r.events.length
    ? { events: r.events.map((e) => `${e.type}:${dec(e.kv.key)}@${e.kv.modRevision}`) }
    : {}),
});

Deno.test("create: auto IDs from 0, client IDs, duplicates and empty ranges", async () => {
  const { store, hub, consumer, stream, timers } = setup();
  write(store, hub, { put: "a" });
  stream.create({ key: enc("a") });
  stream.create({ key: enc("b"), watchId: 1 }); // taken by the client: auto skips it
  stream.create({ key: enc("c") });
  stream.create({ key: enc("d"), watchId: 1 });
  stream.create({ key: enc("b"), rangeEnd: enc("a") });
  stream.create({ key: enc("b"), rangeEnd: enc("b") });
  stream.create({ key: enc("z"), watchId: 7 });
  await settle(timers);
  const dup = "mvcc: duplicate watch ID provided on the WatchStream";
  const empty = "mvcc: watcher range is empty";
  assert.deepEqual(consumer.received.map(summary), [
    { id: 0, rev: 2, created: true },
    { id: 1, rev: 2, created: true },
    { id: 2, rev: 2, created: true },
    { id: -1, rev: 2, created: true, canceled: true, reason: dup },
    { id: -1, rev: 2, created: true, canceled: true, reason: empty },
    { id: -1, rev: 2, created: true, canceled: true, reason: empty },
    { id: 7, rev: 2, created: true },
  ]);
  stream.close();
});

Deno.test("key, prefix, from-key and empty-key ranges select the right events", async () => {
  const { store, hub, consumer, stream, timers } = setup();
  const cases: [string, Uint8Array, Uint8Array][] = [
    ["single", enc("foo"), new Uint8Array()],
    ["prefix", enc("foo"), enc("fop")],
    ["fromKey", enc("foo"), new Uint8Array([0])],
    ["all", new Uint8Array(), new Uint8Array([0])],
    ["emptyKey", new Uint8Array(), new Uint8Array()],
  ];
  for (const [, key, rangeEnd] of cases) stream.create({ key, rangeEnd });
  for (const k of ["fo", "foo", "foo1", "fop", "zz", "\0"]) write(store, hub, { put: k });
  await settle(timers);
  const keys = (id: number) => consumer.flat(id).map(([k]) => k);
  assert.deepEqual(keys(0), ["foo"]);
  assert.deepEqual(keys(1), ["foo", "foo1"]);
  assert.deepEqual(keys(2), ["foo", "foo1", "fop", "zz"]);
  assert.deepEqual(keys(3), ["fo", "foo", "foo1", "fop", "zz", "\0"]);
  assert.deepEqual(keys(4), ["\0"]);
  stream.close();
});

Deno.test("start_revision replays history, then continues live without gaps or repeats", async () => {
  const { store, hub, consumer, stream, timers } = setup();
  for (let i = 0; i < 5; i++) write(store, hub, { put: "k" }, { put: `x${i}` }); // revs 2..6
  stream.create({ key: enc("k"), startRevision: 3 });
  stream.create({ key: enc("k"), startRevision: 9 }); // future: waits for it
  write(store, hub, { put: "k" }); // 7, before the catch-up ran
  await settle(timers);
  write(store, hub, { put: "k" }); // 8
  write(store, hub, { put: "k" }); // 9
  await settle(timers);
  assert.deepEqual(consumer.flat(0).map(([, r]) => r), [3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(consumer.flat(1).map(([, r]) => r), [9]);
  // History arrives as one response stamped with the current revision.
  assert.deepEqual(summary(consumer.eventsOf(0)[0]), {
    id: 0,
    rev: 7,
    events: ["0:k@3", "0:k@4", "0:k@5", "0:k@6", "0:k@7"],
  });
  stream.close();
});

Deno.test("a compacted start revision cancels with compact_revision and no reason", async () => {
  const { store, hub, consumer, stream, timers } = setup();
  for (let i = 0; i < 5; i++) write(store, hub, { put: "k" });
  store.compactRev = 4;
  stream.create({ key: enc("k"), startRevision: 2 });
  stream.create({ key: enc("k"), startRevision: 4 });
  await settle(timers);
  assert.deepEqual(consumer.received.map(summary), [
    { id: 0, rev: 6, created: true },
    { id: 1, rev: 6, created: true },
    { id: 0, rev: 0, canceled: true, compact: 4 },
    { id: 1, rev: 6, events: ["0:k@4", "0:k@5", "0:k@6"] },
  ]);
  // The ID stays taken until the client cancels it, as in etcd.
  stream.create({ key: enc("k"), watchId: 0 }); // 0 = auto
  stream.cancel(0);
  await settle(timers);
  assert.deepEqual(consumer.received.slice(4).map(summary), [
    { id: 2, rev: 6, created: true },
    { id: 0, rev: 6, canceled: true },
  ]);
  stream.close();
});

Deno.test("prev_kv is kept only for watchers that asked, live and from history", async () => {
  const { store, hub, consumer, stream, timers } = setup();
  write(store, hub, { put: "k", value: "one" });
  write(store, hub, { put: "k", value: "two" });
  stream.create({ key: enc("k"), prevKv: true, startRevision: 2 });
  stream.create({ key: enc("k"), startRevision: 2 });
  await settle(timers);
  write(store, hub, { del: "k" });
  await settle(timers);
  const prevs = (id: number) =>
    consumer.eventsOf(id).flatMap((r) => r.events.map((e) => e.prevKv && dec(e.prevKv.value)));
  assert.deepEqual(prevs(0), [undefined, "one", "two"]);
  assert.deepEqual(prevs(1), [undefined, undefined, undefined]);
  stream.close();
});

Deno.test("wantsPrevKv: while a watcher that asked for prev_kv exists", () => {
  const { hub, stream } = setup();
  assert.equal(hub.wantsPrevKv(), false);
  stream.create({ key: enc("a") });
  assert.equal(hub.wantsPrevKv(), false);
  stream.create({ key: enc("a"), prevKv: true });
  stream.create({ key: enc("b"), prevKv: true });
  assert.equal(hub.wantsPrevKv(), true);
  stream.cancel(1);
  assert.equal(hub.wantsPrevKv(), true, "watcher 2 still wants it");
  const other = hub.createStream(() => {});
  other.create({ key: enc("c"), prevKv: true });
  stream.close();
  assert.equal(hub.wantsPrevKv(), true, "the other stream's watcher still wants it");
  other.close();
  assert.equal(hub.wantsPrevKv(), false);
});

Deno.test("NOPUT and NODELETE filters; a revision filtered away sends nothing", async () => {
  const { store, hub, consumer, stream, timers } = setup();
  stream.create({ key: enc("k"), filters: [FilterType.NOPUT] });
  stream.create({ key: enc("k"), filters: [FilterType.NODELETE] });
  stream.create({ key: enc("k"), filters: [FilterType.NOPUT, FilterType.NODELETE] });
  write(store, hub, { put: "k" });
  write(store, hub, { del: "k" });
  write(store, hub, { put: "k" });
  await settle(timers);
  assert.deepEqual(consumer.flat(0), [["k", 3, DELETE]]);
  assert.deepEqual(consumer.flat(1), [["k", 2, PUT], ["k", 4, PUT]]);
  assert.equal(consumer.received.filter((r) => r.watchId === 2).length, 1); // created only
  stream.close();
});

Deno.test("all events of one txn revision arrive in one response", async () => {
  const { store, hub, consumer, stream, timers } = setup();
  stream.create({ key: enc("a"), rangeEnd: enc("z") });
  write(store, hub, { put: "a" }, { put: "b" }, { put: "c" });
  await settle(timers);
  assert.deepEqual(consumer.eventsOf(0).map(summary), [
    { id: 0, rev: 2, events: ["0:a@2", "0:b@2", "0:c@2"] },
  ]);
  stream.close();
});

Deno.test("cancel answers canceled; unknown IDs are ignored; no events afterwards", async () => {
  const { store, hub, consumer, stream, timers } = setup();
  stream.create({ key: enc("k") });
  write(store, hub, { put: "k" });
  stream.cancel(0);
  stream.cancel(5);
  write(store, hub, { put: "k" });
  await settle(timers);
  assert.deepEqual(consumer.received.map(summary), [
    { id: 0, rev: 1, created: true },
    { id: 0, rev: 2, events: ["0:k@2"] },
    { id: 0, rev: 2, canceled: true },
  ]);
  assert.equal(hub.stats().syncedWatchers, 0);
  stream.close();
});

Deno.test("progress request: answered at once when synced, deferred while catching up", async () => {
  const { store, hub, consumer, stream, timers } = setup({ catchUpBatchEvents: 2 });
  stream.progress(); // no watchers: synced
  for (let i = 0; i < 6; i++) write(store, hub, { put: "k" }); // revs 2..7
  stream.create({ key: enc("k"), startRevision: 2 });
  stream.progress();
  await settle(timers);
  assert.deepEqual(consumer.received.map(summary), [
    { id: -1, rev: 1 },
    { id: 0, rev: 7, created: true },
    { id: 0, rev: 7, events: ["0:k@2"] },
    { id: 0, rev: 7, events: ["0:k@3"] },
    { id: 0, rev: 7, events: ["0:k@4"] },
    { id: 0, rev: 7, events: ["0:k@5"] },
    { id: 0, rev: 7, events: ["0:k@6"] },
    { id: 0, rev: 7, events: ["0:k@7"] },
    { id: -1, rev: 7 },
  ]);
  stream.close();
});

Deno.test("catch-up chunks keep a revision whole even when it exceeds the chunk", async () => {
  const { store, hub, consumer, stream, timers } = setup({ catchUpBatchEvents: 2 });
  write(store, hub, { put: "a" });
  write(store, hub, { put: "a" }, { put: "b" }, { put: "c" });
  write(store, hub, { put: "b" });
  stream.create({ key: enc("a"), rangeEnd: enc("z"), startRevision: 1 });
  await settle(timers);
  assert.deepEqual(consumer.eventsOf(0).map((r) => summary(r).events), [
    ["0:a@2"],
    ["0:a@3", "0:b@3", "0:c@3"],
    ["0:b@4"],
  ]);
  stream.close();
});

Deno.test("progress_notify: periodic, skipped after events, only for watchers that asked", async () => {
  const { store, hub, consumer, stream, timers } = setup({ progressIntervalMs: 1000 });
  stream.create({ key: enc("a"), progressNotify: true });
  stream.create({ key: enc("b"), progressNotify: true });
  stream.create({ key: enc("c") });
  await settle(timers);
  consumer.received.length = 0;
  timers.advance(1000);
  await settle(timers);
  assert.deepEqual(consumer.received.map(summary), [{ id: 0, rev: 1 }, { id: 1, rev: 1 }]);
  consumer.received.length = 0;
  write(store, hub, { put: "a" });
  timers.advance(1000);
  await settle(timers);
  assert.deepEqual(consumer.received.map(summary), [
    { id: 0, rev: 2, events: ["0:a@2"] },
    { id: 1, rev: 2 },
  ]);
  stream.cancel(0);
  stream.cancel(1);
  timers.advance(5000);
  assert.equal(timers.pending, 0); // the ticker stops with the last such watcher
  stream.close();
});

Deno.test("fragment splits large responses for watchers that asked for it", async () => {
  const { store, hub, consumer, stream, timers } = setup({ maxResponseBytes: 300 });
  stream.create({ key: enc("a"), rangeEnd: enc("z"), fragment: true });
  stream.create({ key: enc("a"), rangeEnd: enc("z") });
  const big = "x".repeat(100);
  write(store, hub, ...["a", "b", "c", "d", "e"].map((k) => ({ put: k, value: big })));
  write(store, hub, { put: "f", value: big });
  await settle(timers);
  const frags = consumer.eventsOf(0);
  assert.ok(frags.length >= 3);
  assert.deepEqual(frags.map((r) => r.fragment), [
    ...frags.slice(0, -2).map(() => true),
    false,
    false,
  ]);
  assert.deepEqual(consumer.flat(0).map(([k]) => k), ["a", "b", "c", "d", "e", "f"]);
  assert.deepEqual(consumer.eventsOf(1).map((r) => r.events.length), [5, 1]);
  stream.close();
});

Deno.test("a failing send closes the stream and its watchers", async () => {
  const store = new FakeStore();
  const timers = new FakeTimers();
  const hub = createWatcherHub(store, { timers });
  const closedWith: unknown[] = [];
  const stream = hub.createStream(
    () => Promise.reject(new Error("gone")),
    (err) => closedWith.push(err),
  );
  stream.create({ key: enc("k") });
  await settle(timers);
  assert.deepEqual(closedWith.map((e) => (e as Error).message), ["gone"]);
  assert.deepEqual(hub.stats(), {
    streams: 0,
    syncedWatchers: 0,
    unsyncedWatchers: 0,
    bufferedResponses: 0,
    bufferedBytes: 0,
    bufferedEvents: 0,
  });
  write(store, hub, { put: "k" });
});

Deno.test("a store failing to serve history ends the stream and says why", async () => {
  const store = new FakeStore();
  const timers = new FakeTimers();
  const hub = createWatcherHub({
    currentRevision: () => store.currentRevision(),
    compactRevision: () => store.compactRevision(),
    history: () => {
      throw new Error("disk on fire");
    },
  }, { timers });
  const consumer = new Consumer();
  const closedWith: unknown[] = [];
  const stream = hub.createStream(consumer.send, (err) => closedWith.push(err));
  write(store, hub, { put: "k" });
  stream.create({ key: enc("k"), startRevision: 1 });
  await settle(timers);
  assert.deepEqual(closedWith.map((e) => (e as Error).message), ["disk on fire"]);
  assert.equal(hub.stats().streams, 0);
});

Deno.test("resync makes synced watchers re-read from the store after a restore", async () => {
  const { store, hub, consumer, stream, timers } = setup();
  stream.create({ key: enc("k") });
  write(store, hub, { put: "k" }); // 2
  await settle(timers);
  // A snapshot brings revisions 3 and 4 without notify.
  store.apply([{ put: "k" }]);
  store.apply([{ put: "k" }]);
  hub.resync();
  await settle(timers);
  assert.deepEqual(consumer.flat(0).map(([, r]) => r), [2, 3, 4]);
  assert.equal(hub.stats().syncedWatchers, 1);
  stream.close();
});

Deno.test("notify ahead of the store's revision is a wiring bug and throws", () => {
  const { hub, stream } = setup();
  assert.throws(() => hub.notify(5, []), /ahead of the store's revision/);
  stream.close();
});
