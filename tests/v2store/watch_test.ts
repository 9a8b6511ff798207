// Watchers, the event history window, TTL expiry, refresh, stats and persistence of the store.
import assert from "node:assert/strict";
import { eventJSON, HISTORY_CAPACITY, V2Error, V2Store } from "../../src/v2store/mod.ts";

const T0 = Date.UTC(2026, 10, 27, 17, 3, 19, 0);
const json = (e: unknown) => JSON.stringify(eventJSON(e as never));

Deno.test("watch: next event on the key, recursive below it, deletes of an ancestor", async () => {
  const s = new V2Store(() => T0);
  s.set("/w/x/y", false, "1");
  const onKey = s.watch("/w/x/y", false, false, 0);
  const onDir = s.watch("/w", false, false, 0);
  const onTree = s.watch("/w", true, false, 0);
  assert.equal(onKey.startIndex, 1);
  assert.equal(s.stats().watchers, 3);
  s.set("/w/x/z", false, "2");
  assert.equal(json(await onTree.next()), json(s.get("/w/x/z")).replace('"get"', '"set"'));
  s.delete("/w", true, true);
  assert.equal(
    json(await onKey.next()),
    '{"action":"delete","node":{"key":"/w","dir":true,"modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/w","dir":true,"modifiedIndex":1,"createdIndex":1}}',
  );
  assert.equal((await onDir.next())?.action, "delete");
  assert.equal(await onKey.next(), undefined, "a one-shot watcher ends after its event");
  assert.equal(s.stats().watchers, 0);
});

Deno.test("watch: waitIndex answered from the history; hidden keys; 401 when cleared", async () => {
  const s = new V2Store(() => T0);
  s.set("/a", false, "1"); // 1
  s.set("/dir/_h", false, "h"); // 2
  s.set("/b", false, "2"); // 3
  const past = s.watch("/a", false, false, 1);
  assert.equal(
    json(await past.next()),
    '{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":1,"createdIndex":1}}',
  );
  const rootPast = s.watch("/", true, false, 2);
  assert.equal((await rootPast.next())?.node?.key, "/dir/_h", "history scan does not hide");
  const live = s.watch("/dir", true, false, 0);
  s.set("/dir/_h", false, "again");
  s.set("/dir/v", false, "seen");
  assert.equal((await live.next())?.node?.key, "/dir/v", "live watchers skip hidden keys");
  for (let i = 0; i < HISTORY_CAPACITY; i++) s.set("/loop", false, String(i));
  assert.throws(() => s.watch("/loop", false, false, 3), (err: V2Error) => {
    assert.equal(
      JSON.stringify(err),
      `{"errorCode":401,"message":"The event in requested index is outdated and cleared","cause":"the requested history has been cleared [6/3]","index":1005}`,
    );
    assert.equal(err.status, 400);
    return true;
  });
});

Deno.test("watch: stream watchers keep receiving; refreshes wake nobody", async () => {
  const s = new V2Store(() => T0);
  s.set("/k", false, "v", { expireTime: T0 + 5000 });
  const w = s.watch("/k", false, true, 0);
  s.set("/k", false, "", { expireTime: T0 + 9000, refresh: true });
  s.update("/k", "", { expireTime: T0 + 9000, refresh: true });
  s.set("/k", false, "2");
  s.set("/k", false, "3");
  assert.equal((await w.next())?.node?.value, "2");
  assert.equal((await w.next())?.node?.value, "3");
  assert.equal(s.stats().watchers, 1);
  w.remove();
  assert.equal(s.stats().watchers, 0);
  const e = s.get("/k");
  assert.equal(e.node?.value, "3");
});

Deno.test("ttl: refresh keeps the value; expire(now) removes due nodes with expire events", async () => {
  const clock = { now: T0 };
  const s = new V2Store(() => clock.now);
  const set = s.set("/tt/k", false, "1", { expireTime: T0 + 1000 });
  assert.equal(
    json(set),
    '{"action":"set","node":{"key":"/tt/k","value":"1","expiration":"2026-11-27T17:03:20Z","ttl":1,"modifiedIndex":1,"createdIndex":1}}',
  );
  const refreshed = s.update("/tt/k", "", { expireTime: T0 + 1500, refresh: true });
  assert.equal(refreshed.node?.value, "1");
  assert.equal(refreshed.node?.ttl, 2, "1.5 s left rounds up");
  s.set("/d", true, "", { expireTime: T0 + 1200 });
  s.set("/d/child", false, "c", { expireTime: T0 + 1300 });
  assert.equal(s.hasTTLKeys(), true);
  assert.equal(s.nextExpiry(), T0 + 1200);
  const w = s.watch("/tt", true, false, 0);
  const wChild = s.watch("/d/child", false, false, 0);
  assert.deepEqual(s.expire(T0 + 1000), []);
  clock.now = T0 + 1600;
  const events = s.expire(T0 + 1600);
  assert.deepEqual(events.map((e) => [e.action, e.node?.key]), [["expire", "/d"], [
    "expire",
    "/tt/k",
  ]]);
  assert.equal(
    json(await w.next()),
    '{"action":"expire","node":{"key":"/tt/k","modifiedIndex":6,"createdIndex":1},"prevNode":{"key":"/tt/k","value":"1","expiration":"2026-11-27T17:03:20.5Z","modifiedIndex":2,"createdIndex":1}}',
  );
  assert.equal((await wChild.next())?.node?.key, "/d", "a watcher below an expired dir wakes");
  assert.equal(s.hasTTLKeys(), false);
  assert.equal(s.stats().expireCount, 2);
  assert.throws(() => s.get("/d/child"), V2Error);
});

Deno.test("stats count successes and failures per operation", () => {
  const s = new V2Store(() => T0);
  s.set("/a", false, "1");
  assert.throws(() => s.get("/nope"));
  s.get("/a");
  assert.throws(() => s.create("/a", false, "x", false));
  assert.throws(() => s.create("/a/b", false, "x", false)); // a failed walk counts as a set too
  s.compareAndSwap("/a", "1", 0, "2");
  assert.throws(() => s.compareAndDelete("/a", "1", 0));
  s.delete("/a", false, false);
  assert.equal(
    JSON.stringify(s.stats()),
    '{"getsSuccess":1,"getsFail":1,"setsSuccess":1,"setsFail":1,"deleteSuccess":1,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":0,"createFail":2,"compareAndSwapSuccess":1,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":1,"expireCount":0,"watchers":0}',
  );
});

Deno.test("save/restore and incremental changes rebuild the same store", () => {
  const s = new V2Store(() => T0);
  s.set("/x/y/z", false, "1");
  s.set("/x/a", false, "2", { expireTime: T0 + 10_000 });
  s.create("/q", false, "j", true);
  s.delete("/x/y", true, true);
  for (let i = 0; i < HISTORY_CAPACITY + 5; i++) s.set("/loop", false, String(i));
  const full = s.toJSON();
  const copy = new V2Store(() => T0);
  copy.restore(JSON.parse(JSON.stringify(full)));
  assert.equal(JSON.stringify(copy.get("/", true, false)), JSON.stringify(s.get("/", true, false)));
  assert.equal(copy.index, s.index);
  assert.equal(copy.hasTTLKeys(), true);

  // Replaying the change sets into a row map gives the same state as toJSON.
  const fresh = new V2Store(() => T0);
  const rows = new Map<string, unknown>();
  const events = new Map<number, unknown>();
  const apply = () => {
    const c = fresh.takeChanges();
    for (const [p, r] of c.nodes) r ? rows.set(p, r) : rows.delete(p);
    for (const e of c.events) events.set(e.node!.modifiedIndex!, e);
    for (const i of c.evicted) events.delete(i);
  };
  fresh.set("/x/y/z", false, "1");
  apply();
  fresh.set("/x/a", false, "2", { expireTime: T0 + 10_000 });
  fresh.create("/q", false, "j", true);
  apply();
  fresh.delete("/x/y", true, true);
  for (let i = 0; i < HISTORY_CAPACITY + 5; i++) fresh.set("/loop", false, String(i));
  apply();
  const rebuilt = new V2Store(() => T0);
  rebuilt.restore({
    index: fresh.index,
    stats: fresh.stats(),
    nodes: [...rows.values()] as never,
    events: [...events.values()] as never,
  });
  assert.deepEqual(rebuilt.toJSON(), full);
});
