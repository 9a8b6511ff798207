// Watch coalescing's rules: which client watchers may share an upstream watcher, where each one
// starts, and what each gets of the shared responses (its own revisions, filters and prev_kv).
import assert from "node:assert/strict";
import { Broadcast, ClientWatcher } from "../../src/grpcproxy/mod.ts";
import type { Init, KeyValue, WatchCreateRequest, WatchResponse } from "../../src/pb/mod.ts";

const b = (s: string) => new TextEncoder().encode(s);
const header = (revision: number) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 3 });

function createRequest(over: Partial<WatchCreateRequest> = {}): WatchCreateRequest {
  return {
    key: b("k"),
    rangeEnd: new Uint8Array(0),
    startRevision: 0,
    progressNotify: false,
    filters: [],
    prevKv: false,
    watchId: 0,
    fragment: false,
    ...over,
  };
}

function watcher(id: number, over: Partial<WatchCreateRequest> = {}) {
  const posted: Init<WatchResponse>[] = [];
  const w = new ClientWatcher(id, createRequest(over), (r) => posted.push(r), undefined, () => {});
  return { w, posted };
}

const kv = (rev: number, value = "v"): KeyValue => ({
  key: b("k"),
  value: b(value),
  createRevision: 1,
  modRevision: rev,
  version: 1,
  lease: 0n,
});

function response(rev: number, fields: Partial<WatchResponse> = {}): WatchResponse {
  return {
    header: header(rev),
    watchId: 7,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: "",
    fragment: false,
    events: [],
    ...fields,
  };
}

const put = (rev: number) => ({ type: 0, kv: kv(rev), prevKv: kv(rev - 1, "old") });
const del = (rev: number) => ({ type: 1, kv: kv(rev), prevKv: kv(rev - 1, "old") });

Deno.test("broadcast: watchers waiting for the create all hear it and start after it", () => {
  const bc = new Broadcast("k", b("k"), new Uint8Array(0), 0);
  const a = watcher(0);
  const c = watcher(3);
  bc.join(a.w);
  assert.ok(bc.accepts(c.w));
  bc.join(c.w);
  assert.equal(a.posted.length, 0); // nothing until the cluster answers
  bc.onResponse(response(10, { created: true }));
  assert.deepEqual(a.posted, [{ header: header(10), watchId: 0, created: true }]);
  assert.deepEqual(c.posted, [{ header: header(10), watchId: 3, created: true }]);
  assert.equal(a.w.nextRev, 11);
  assert.equal(bc.completeThrough, 10);
});

Deno.test("broadcast: who may join a created watcher without missing or gaining events", () => {
  const bc = new Broadcast("k", b("k"), new Uint8Array(0), 0);
  bc.join(watcher(0).w);
  bc.onResponse(response(10, { created: true }));
  bc.onResponse(response(12, { events: [put(12)] }));
  assert.equal(bc.completeThrough, 12);
  // From now: joins at once, created at the revision the broadcast has passed on.
  const now = watcher(1);
  assert.ok(bc.accepts(now.w));
  bc.join(now.w);
  assert.deepEqual(now.posted, [{ header: header(12), watchId: 1, created: true }]);
  assert.equal(now.w.nextRev, 13);
  // From a revision already passed on: the broadcast cannot replay it.
  assert.ok(!bc.accepts(watcher(2, { startRevision: 12 }).w));
  assert.ok(bc.accepts(watcher(2, { startRevision: 13 }).w));
  // A watcher from the past accepts only those that start where it does or later.
  const past = new Broadcast("k", b("k"), new Uint8Array(0), 5);
  assert.ok(!past.accepts(watcher(3).w));
  assert.ok(!past.accepts(watcher(3, { startRevision: 4 }).w));
  assert.ok(past.accepts(watcher(3, { startRevision: 6 }).w));
});

Deno.test("broadcast: each watcher gets its own revisions, filters and prev_kv", () => {
  const bc = new Broadcast("k", b("k"), new Uint8Array(0), 2);
  const plain = watcher(0, { startRevision: 2 });
  const later = watcher(1, { startRevision: 4, prevKv: true });
  const noPut = watcher(2, { startRevision: 2, filters: [0] });
  for (const x of [plain, later, noPut]) bc.join(x.w);
  bc.onResponse(response(5, { created: true }));
  assert.equal(bc.completeThrough, 1);
  // A catch-up batch: revisions 2 to 4 of a cluster at 5.
  bc.onResponse(response(5, { events: [put(2), del(3), put(4)] }));
  assert.equal(bc.completeThrough, 4);
  const events = (x: { posted: Init<WatchResponse>[] }) => x.posted.at(-1)!.events!;
  assert.deepEqual(events(plain).map((e) => [e.type, e.kv!.modRevision, e.prevKv]), [
    [0, 2, undefined],
    [1, 3, undefined],
    [0, 4, undefined],
  ]);
  assert.deepEqual(events(later).map((e) => [e.kv!.modRevision, e.prevKv?.modRevision]), [[4, 3]]);
  assert.deepEqual(events(noPut).map((e) => e.type), [1]);
  // An event already passed on (after a resumed watch, say) reaches no one twice.
  const before = plain.posted.length;
  bc.onResponse(response(5, { events: [put(4)] }));
  assert.equal(plain.posted.length, before);
  bc.onResponse(response(5, { events: [put(5)] }));
  assert.equal(bc.completeThrough, 5);
  assert.equal(plain.posted.length, before + 1);
  // Everything filtered out (a put, for a no-put watcher): nothing is posted.
  assert.equal(noPut.posted.length, 2); // created, and the batch with its delete
});

Deno.test("broadcast: progress goes to those who asked; an end reaches everyone", () => {
  const bc = new Broadcast("k", b("k"), new Uint8Array(0), 0);
  const quiet = watcher(0);
  const progress = watcher(1, { progressNotify: true });
  bc.join(quiet.w);
  bc.join(progress.w);
  bc.onResponse(response(3, { created: true }));
  bc.onResponse(response(9));
  assert.equal(bc.completeThrough, 9);
  assert.equal(quiet.posted.length, 1);
  assert.deepEqual(progress.posted.at(-1), { header: header(9), watchId: 1 });
  bc.onResponse(response(9, { canceled: true, compactRevision: 8 }));
  for (const x of [quiet, progress]) {
    assert.deepEqual(x.posted.at(-1), {
      header: header(9),
      watchId: x.w.id,
      canceled: true,
      compactRevision: 8,
      cancelReason: "",
    });
  }
});
