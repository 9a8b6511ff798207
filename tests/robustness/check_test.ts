// The linearizability checker on small histories written by hand: each wrong one is a kind
// of bug a store can have, each right one a case a naive checker gets wrong.

import assert from "node:assert/strict";
import { kv } from "./fixtures.ts";
import { checkHistory } from "./check.ts";
import type { KeyValue, Operation, Outcome, Request } from "./types.ts";
import { ErrLeaseNotFound } from "./types.ts";

function op(
  client: number,
  call: number,
  ret: number | undefined,
  request: Request,
  outcome: Outcome,
) {
  const o: Operation = { client, call, request, outcome };
  if (ret !== undefined) o.return = ret;
  return o;
}
const put = (key: string, value: string): Request => ({ type: "put", key, value });
const get = (key: string): Request => ({ type: "range", key });
const wrote = (revision: number): Outcome => ({ status: "ok", revision, result: { type: "put" } });
const read = (revision: number, ...kvs: KeyValue[]): Outcome => ({
  status: "ok",
  revision,
  result: { type: "range", kvs, count: kvs.length, more: false },
});
const unknown: Outcome = { status: "unknown" };

function accepts(history: Operation[]) {
  const result = checkHistory(history);
  assert.equal(result.ok, true, result.violations.join("\n"));
  return result;
}

function rejects(history: Operation[]) {
  const result = checkHistory(history);
  assert.equal(result.verdict, "not linearizable", "accepted a history that is not linearizable");
  return result.violations.join("\n");
}

Deno.test("a sequential history is accepted, with its order and its events", () => {
  const result = accepts([
    op(1, 0, 1, put("a", "1"), wrote(2)),
    op(1, 2, 3, get("a"), read(2, kv("a", "1", 2, 2))),
    op(2, 4, 5, { type: "deleteRange", key: "a" }, {
      status: "ok",
      revision: 3,
      result: { type: "deleteRange", deleted: 1 },
    }),
  ]);
  assert.deepEqual(result.linearization, [0, 1, 2]);
  assert.deepEqual(result.events.map((e) => [e.type, e.kv.key, e.kv.modRevision]), [
    ["PUT", "a", 2],
    ["DELETE", "a", 3],
  ]);
  assert.equal(result.revision, 3);
});

Deno.test("a stale read (older than a write that had returned) is rejected, and explained", () => {
  const why = rejects([
    op(1, 0, 10, put("a", "1"), wrote(2)),
    op(2, 11, 12, get("a"), read(1)),
  ]);
  assert.match(why, /#1 client 2 \[11, 12\] get "a" -> revision 1 .* was called after #0 /);
  // Stale in its contents only: the search shows the store it should have seen.
  const content = rejects([
    op(1, 0, 10, put("a", "1"), wrote(2)),
    op(2, 11, 12, get("a"), read(2)),
  ]);
  assert.match(content, /The store after them: revision 2\n {2}"a" = "1"/);
  assert.match(content, /count 0, the model counts 1/);
});

Deno.test("a lost write (acknowledged, then missing from a later read) is rejected", () => {
  // The second put is acknowledged at revision 3; a later read still shows the first.
  rejects([
    op(1, 0, 1, put("a", "1"), wrote(2)),
    op(1, 2, 3, put("a", "2"), wrote(3)),
    op(2, 4, 5, get("a"), read(3, kv("a", "1", 2, 2))),
  ]);
  // Acknowledged, then gone altogether while the revision says it happened.
  rejects([
    op(1, 0, 1, put("a", "1"), wrote(2)),
    op(2, 4, 5, get("a"), read(2)),
  ]);
});

Deno.test("reordered writes (the later write got the earlier revision) are rejected", () => {
  rejects([
    op(1, 0, 5, put("a", "1"), wrote(3)),
    op(2, 6, 10, put("b", "1"), wrote(2)),
  ]);
});

Deno.test("a wrong revision is rejected: in a write's header, a read's header, a mod revision", () => {
  rejects([op(1, 0, 1, put("a", "1"), wrote(3))]);
  rejects([
    op(1, 0, 1, put("a", "1"), wrote(2)),
    op(1, 2, 3, get("a"), read(3, kv("a", "1", 2, 2))),
  ]);
  rejects([
    op(1, 0, 1, put("a", "1"), wrote(2)),
    op(1, 2, 3, get("a"), read(2, kv("a", "1", 2, 1))),
  ]);
  rejects([
    op(1, 0, 1, put("a", "1"), wrote(2)),
    op(1, 2, 3, put("a", "2"), wrote(3)),
    op(1, 4, 5, get("a"), read(3, kv("a", "2", 3, 3, 2))),
  ]);
});

Deno.test("concurrent writes are accepted in the order the reads show, not the order of calls", () => {
  accepts([
    op(1, 0, 100, put("a", "1"), wrote(3)),
    op(2, 1, 100, put("a", "2"), wrote(2)),
    op(3, 10, 20, get("a"), read(2, kv("a", "2", 2, 2))),
    op(4, 30, 40, get("a"), read(3, kv("a", "1", 2, 3, 2))),
  ]);
  // The same reads with their times swapped cannot be explained.
  rejects([
    op(1, 0, 100, put("a", "1"), wrote(3)),
    op(2, 1, 100, put("a", "2"), wrote(2)),
    op(3, 30, 40, get("a"), read(2, kv("a", "2", 2, 2))),
    op(4, 10, 20, get("a"), read(3, kv("a", "1", 2, 3, 2))),
  ]);
});

Deno.test("an operation that touches another's return at one instant counts as concurrent", () => {
  accepts([op(1, 0, 10, put("a", "1"), wrote(2)), op(2, 10, 12, get("a"), read(1))]);
});

Deno.test("an unanswered write may have happened: a later read shows it", () => {
  accepts([
    op(1, 0, undefined, put("a", "1"), unknown),
    op(2, 50, 60, get("a"), read(2, kv("a", "1", 2, 2))),
  ]);
});

Deno.test("an unanswered write may never have happened", () => {
  accepts([op(1, 0, undefined, put("a", "1"), unknown), op(2, 50, 60, get("a"), read(1))]);
});

Deno.test("an unanswered write may take effect after its client moved on", () => {
  accepts([
    op(1, 0, undefined, put("a", "1"), unknown),
    op(1, 10, 20, put("b", "1"), wrote(2)),
    op(2, 30, 40, get("a"), read(3, kv("a", "1", 3, 3))),
  ]);
  // ... but not before it was called.
  rejects([
    op(2, 0, 5, get("a"), read(2, kv("a", "1", 2, 2))),
    op(1, 10, undefined, put("a", "1"), unknown),
  ]);
});

Deno.test("an unanswered write nobody saw fills the revision gap it left", () => {
  const history = (version: number) => [
    op(1, 0, undefined, put("a", "x"), unknown),
    op(2, 10, 20, put("a", "y"), wrote(3)),
    op(3, 30, 40, get("a"), read(3, kv("a", "y", 2, 3, version))),
  ];
  accepts(history(2));
  // Version 1 says nothing wrote "a" before: then nothing can have made revision 2.
  rejects(history(1));
});

Deno.test("an unanswered write known to be persisted must happen, at its revision", () => {
  const persisted: Outcome = { status: "unknown", persisted: true, revision: 2 };
  accepts([op(1, 0, undefined, put("a", "1"), persisted), op(2, 10, 20, put("b", "1"), wrote(3))]);
  rejects([op(1, 0, undefined, put("a", "1"), persisted), op(2, 10, 20, put("b", "1"), wrote(2))]);
  // Without the persisted mark the write could have been lost.
  accepts([op(1, 0, undefined, put("a", "1"), unknown), op(2, 10, 20, put("b", "1"), wrote(2))]);
});

Deno.test("a serializable read may be stale, but must match the store at the revision it read", () => {
  const stale = (outcome: Outcome) => [
    op(1, 0, 1, put("a", "1"), wrote(2)),
    op(1, 2, 3, put("a", "2"), wrote(3)),
    op(2, 10, 11, { type: "range", key: "a", serializable: true }, outcome),
  ];
  accepts(stale(read(2, kv("a", "1", 2, 2))));
  accepts(stale(read(1)));
  rejects(stale(read(2, kv("a", "2", 2, 3, 2))));
  // No store of this history ever reached revision 4.
  rejects(stale(read(4, kv("a", "2", 2, 3, 2))));
});

Deno.test("a read of an older revision sees that revision's store, under the current header", () => {
  const old = (outcome: Outcome) => [
    op(1, 0, 1, put("a", "1"), wrote(2)),
    op(1, 2, 3, put("a", "2"), wrote(3)),
    op(2, 10, 11, { type: "range", key: "a", revision: 2 }, outcome),
  ];
  accepts(old(read(3, kv("a", "1", 2, 2))));
  rejects(old(read(3, kv("a", "2", 2, 3, 2))));
  rejects(old(read(2, kv("a", "1", 2, 2))));
});

Deno.test("a refusal is a fact about the store: lease not found only while it is not granted", () => {
  const grant = op(1, 0, 1, { type: "leaseGrant", id: 7, ttl: 60 }, {
    status: "ok",
    revision: 1,
    result: { type: "leaseGrant", id: 7 },
  });
  const refused = (call: number) =>
    op(2, call, call + 1, { type: "put", key: "a", value: "1", lease: 7 }, {
      status: "error",
      error: ErrLeaseNotFound,
    });
  accepts([refused(0), grant]);
  rejects([grant, refused(5)]);
});

Deno.test("the checker starts from a given store and gives up when told to", () => {
  const initial = { revision: 10, kvs: [kv("a", "0", 4, 9, 3)], leases: [] };
  const history = [op(1, 0, 1, get("a"), read(10, kv("a", "0", 4, 9, 3)))];
  assert.equal(checkHistory(history, { initial }).ok, true);
  assert.equal(checkHistory(history).ok, false);
  // Concurrent puts whose revisions run against their calls: the first place takes 20 tries.
  const long = Array.from({ length: 20 }, (_, i) => op(i, 0, 100, put("k", `${i}`), wrote(21 - i)));
  assert.equal(checkHistory(long, { maxSteps: 5 }).verdict, "undecided");
  assert.equal(checkHistory(long).ok, true);
});

Deno.test("a malformed history is refused with the reason", () => {
  assert.throws(
    () => checkHistory([op(1, 5, 4, put("a", "1"), wrote(2))]),
    /returned \(4\) before its call \(5\)/,
  );
  assert.throws(
    () => checkHistory([op(1, 0, 1, put("a", "1"), read(2))]),
    /a range response to a put request/,
  );
  assert.throws(
    () => checkHistory([op(1, 0, 1, put("a", "1"), unknown)]),
    /unknown outcome has no return/,
  );
});
