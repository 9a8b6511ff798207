// Each watch guarantee broken once by hand, next to a stream that keeps them all; and the
// lease guarantee over members' final reads.

import assert from "node:assert/strict";
import { kv } from "./fixtures.ts";
import { checkLeaseKeysGone } from "./lease.ts";
import type { Event, KeyValue, WatchRecord, WatchRequest, WatchResponse } from "./types.ts";
import { checkWatches, type Guarantee } from "./watch.ts";

const putEvent = (next: KeyValue, prevKv?: KeyValue): Event =>
  prevKv ? { type: "PUT", kv: next, prevKv } : { type: "PUT", kv: next };
const deleteEvent = (key: string, revision: number, prevKv: KeyValue): Event => ({
  type: "DELETE",
  kv: { key, value: "", createRevision: 0, modRevision: revision, version: 0, lease: 0 },
  prevKv,
});

// Revision 2 puts a; 3 (a txn) puts a and b; 4 deletes a; 5 puts b.
const a1 = kv("a", "1", 2, 2, 1), a2 = kv("a", "2", 2, 3, 2), b1 = kv("b", "1", 3, 3, 1);
const b2 = kv("b", "2", 3, 5, 2);
const history: Event[] = [
  putEvent(a1),
  putEvent(a2, a1),
  putEvent(b1),
  deleteEvent("a", 4, a2),
  putEvent(b2, b1),
];
const [r2, r3a, r3b, r4, r5] = history;

const everything: WatchRequest = { key: "\0", rangeEnd: "\0", startRevision: 2, prevKv: true };
const events = (...list: Event[]): WatchResponse => ({
  revision: list.at(-1)!.kv.modRevision,
  events: list,
});
const progress = (revision: number): WatchResponse => ({
  revision,
  events: [],
  progressNotify: true,
});

function violations(request: WatchRequest, responses: WatchResponse[], createdRevision?: number) {
  const record: WatchRecord = { client: 1, request, responses };
  if (createdRevision !== undefined) record.createdRevision = createdRevision;
  return checkWatches([record], history);
}

function breaks(guarantee: Guarantee, request: WatchRequest, responses: WatchResponse[]) {
  const found = violations(request, responses);
  assert.ok(
    found.some((v) => v.guarantee === guarantee),
    `expected a ${guarantee} violation, got ${JSON.stringify(found.map((v) => v.message))}`,
  );
  return found;
}

Deno.test("a stream with whole revisions, in order, and honest progress notifications passes", () => {
  assert.deepEqual(
    violations(everything, [
      events(r2),
      progress(2),
      events(r3a, r3b, r4),
      progress(4),
      events(r5),
    ]),
    [],
  );
  // A single-key watch from its creation, without prev_kv and without deletes.
  const onlyA = { key: "a", filters: ["NODELETE" as const] };
  const bare = (e: Event) => ({ type: e.type, kv: e.kv });
  assert.deepEqual(violations(onlyA, [events(bare(r3a)), progress(5)], 2), []);
});

Deno.test("ordered: an event older than one already delivered", () => {
  breaks("ordered", everything, [events(r2), events(r4), events(r3a, r3b)]);
});

Deno.test("unique: an event delivered twice", () => {
  breaks("unique", everything, [events(r2), events(r3a, r3b), events(r3b, r4)]);
});

Deno.test("atomic: a revision split over two responses, or delivered in part", () => {
  breaks("atomic", everything, [events(r2, r3a), events(r3b, r4)]);
  breaks("atomic", everything, [events(r2, r3a), events(r4)]);
});

Deno.test("bookmarkable: an event at or below a progress notification, or a notification going back", () => {
  breaks("bookmarkable", everything, [events(r2), progress(3), events(r3a, r3b)]);
  breaks("bookmarkable", everything, [events(r2), progress(4), progress(3)]);
});

Deno.test("reliable: a revision missing between two delivered, or before a progress notification", () => {
  breaks("reliable", everything, [events(r2), events(r4)]);
  breaks("reliable", everything, [events(r2), progress(4)]);
});

Deno.test("resumable: a watch from revision 3 must start with revision 3's events", () => {
  const found = breaks("resumable", { ...everything, startRevision: 3 }, [events(r4), events(r5)]);
  assert.match(found[0].message, /a watch from revision 3 missed its first events/);
  breaks("resumable", { ...everything, startRevision: 3 }, [events(r2), events(r3a, r3b)]);
});

Deno.test("prev_kv: it must be the key's previous value, and only when asked for", () => {
  const wrong = putEvent(a2, { ...a1, value: "0" });
  breaks("prevKv", everything, [events(r2), events(wrong, r3b)]);
  breaks("prevKv", everything, [events(r2), events(putEvent(a2), r3b)]);
  breaks("prevKv", { ...everything, prevKv: false }, [
    events(r2),
    events(r3a, { type: "PUT", kv: b1 }),
  ]);
});

Deno.test("filters: NOPUT lets no put through, NODELETE no delete", () => {
  breaks("filter", { ...everything, filters: ["NOPUT"] }, [events(r4), events(r5)]);
  breaks("filter", { ...everything, filters: ["NODELETE"] }, [events(r2), events(r3a, r3b, r4)]);
});

Deno.test("accurate: an event that did not happen, or of a key outside the range", () => {
  breaks("accurate", everything, [events(r2), events(putEvent({ ...a2, value: "9" }, a1), r3b)]);
  breaks("accurate", { key: "b", startRevision: 2 }, [events(r3a, r3b)]);
});

Deno.test("canceled: nothing after the cancellation; a compacted watch is not held to history", () => {
  breaks("canceled", everything, [
    events(r2),
    { revision: 2, events: [], canceled: true },
    events(r3a, r3b),
  ]);
  const compacted = { revision: 5, events: [], canceled: true, compactRevision: 4 };
  assert.deepEqual(violations({ ...everything, startRevision: 1 }, [compacted]), []);
});

Deno.test("each violation names its watch and client", () => {
  const ok: WatchRecord = { client: 1, request: everything, responses: [events(r2)] };
  const bad: WatchRecord = { client: 7, request: everything, responses: [events(r2, r2)] };
  const found = checkWatches([ok, bad], history);
  assert.deepEqual(found.map((v) => [v.watch, v.client, v.guarantee]), [[1, 7, "unique"]]);
});

Deno.test("lease: a key under a lease that ended must be gone on every member", () => {
  const leased = { ...kv("k", "v", 2, 2, 1), lease: 7 };
  const other = { ...kv("j", "v", 3, 3, 1), lease: 8 };
  const reads = [{ member: "m1", kvs: [other] }, { member: "m2", kvs: [leased, other] }];
  assert.deepEqual(checkLeaseKeysGone([7], reads), [
    'member m2 still serves "k" = "v" (create 2, mod 2, version 1, lease 7) after lease 7 ended',
  ]);
  assert.deepEqual(checkLeaseKeysGone([9], reads), []);
});
