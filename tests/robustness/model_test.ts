// etcd's KV semantics as the model applies them, one fact per test.

import assert from "node:assert/strict";
import { kv } from "./fixtures.ts";
import { type Answer, step } from "./model.ts";
import { KvState } from "./state.ts";
import {
  ErrDuplicateKey,
  ErrFutureRev,
  ErrLeaseExist,
  ErrLeaseNotFound,
  type PutRequest,
  type RangeRequest,
  type Request,
} from "./types.ts";
import { prefixEnd } from "./keys.ts";

function run(state: KvState, ...requests: Request[]): Answer[] {
  return requests.map((r) => step(state, r));
}

const put = (key: string, value: string, lease?: number): PutRequest => ({
  type: "put",
  key,
  value,
  lease,
});
const get = (key: string, rangeEnd?: string): RangeRequest => ({ type: "range", key, rangeEnd });

Deno.test("a put creates one revision; a second put keeps create_revision and bumps version", () => {
  const s = new KvState();
  const answers = run(s, put("a", "1"), put("a", "2"), get("a"));
  assert.deepEqual(answers.map((a) => a.status === "ok" && a.revision), [2, 3, 3]);
  assert.deepEqual(s.get("a"), kv("a", "2", 2, 3, 2));
});

Deno.test("a delete ends the generation: the next put starts at version 1 with a new create_revision", () => {
  const s = new KvState();
  const [, del, none] = run(s, put("a", "1"), { type: "deleteRange", key: "a" }, {
    type: "deleteRange",
    key: "a",
  });
  assert.deepEqual(del, { status: "ok", revision: 3, result: { type: "deleteRange", deleted: 1 } });
  // Deleting nothing creates no revision.
  assert.deepEqual(none, {
    status: "ok",
    revision: 3,
    result: { type: "deleteRange", deleted: 0 },
  });
  run(s, put("a", "2"));
  assert.deepEqual(s.get("a"), kv("a", "2", 4, 4, 1));
});

Deno.test("a range delete removes every key of the range in one revision, prev_kvs in key order", () => {
  const s = new KvState();
  run(s, put("k/b", "2"), put("k/a", "1"), put("l", "3"));
  const [answer] = run(s, {
    type: "deleteRange",
    key: "k/",
    rangeEnd: prefixEnd("k/"),
    prevKv: true,
  });
  assert.deepEqual(answer, {
    status: "ok",
    revision: 5,
    result: {
      type: "deleteRange",
      deleted: 2,
      prevKvs: [kv("k/a", "1", 3, 3, 1), kv("k/b", "2", 2, 2, 1)],
    },
  });
  assert.deepEqual(s.keys(() => true), ["l"]);
});

Deno.test("a range honours limit (count is the total, more says it was cut) and count_only", () => {
  const s = new KvState();
  run(s, put("a", "1"), put("b", "2"), put("c", "3"));
  const [limited, counted, all] = run(
    s,
    { type: "range", key: "a", rangeEnd: "\0", limit: 2 },
    { type: "range", key: "a", rangeEnd: "z", countOnly: true },
    { type: "range", key: "\0", rangeEnd: "\0", keysOnly: true },
  );
  assert.deepEqual(limited, {
    status: "ok",
    revision: 4,
    result: {
      type: "range",
      kvs: [kv("a", "1", 2, 2, 1), kv("b", "2", 3, 3, 1)],
      count: 3,
      more: true,
    },
  });
  assert.deepEqual(counted, {
    status: "ok",
    revision: 4,
    result: { type: "range", kvs: [], count: 3, more: false },
  });
  assert.equal(all.status === "ok" && all.result?.type === "range" && all.result.kvs[2].value, "");
});

Deno.test("a txn's writes share one revision and its reads see its earlier writes", () => {
  const s = new KvState();
  run(s, put("a", "1"));
  const [answer] = run(s, {
    type: "txn",
    compare: [{ key: "a", target: "mod", result: "equal", value: 2 }],
    success: [put("a", "2"), get("a"), put("b", "x")],
    failure: [],
  });
  assert.deepEqual(answer, {
    status: "ok",
    revision: 3,
    result: {
      type: "txn",
      succeeded: true,
      responses: [
        { type: "put" },
        { type: "range", kvs: [kv("a", "2", 2, 3, 2)], count: 1, more: false },
        { type: "put" },
      ],
    },
  });
});

Deno.test("a failed compare runs the else branch; a read-only branch creates no revision", () => {
  const s = new KvState();
  run(s, put("a", "1"));
  const [answer] = run(s, {
    type: "txn",
    compare: [{ key: "a", target: "value", result: "equal", value: "other" }],
    success: [put("a", "2")],
    failure: [get("a")],
  });
  assert.equal(answer.status === "ok" && answer.revision, 2);
  assert.equal(
    answer.status === "ok" && answer.result?.type === "txn" && answer.result.succeeded,
    false,
  );
});

Deno.test("compare on a missing key: value fails, version/create/mod compare as 0", () => {
  const s = new KvState();
  const cmp = (target: "value" | "version" | "create" | "mod", value: string | number) => {
    const [a] = run(s, {
      type: "txn",
      compare: [{ key: "nope", target, result: "equal", value }],
      success: [],
      failure: [],
    });
    return a.status === "ok" && a.result?.type === "txn" && a.result.succeeded;
  };
  assert.equal(cmp("value", ""), false);
  assert.equal(cmp("version", 0), true);
  assert.equal(cmp("create", 0), true);
  assert.equal(cmp("mod", 0), true);
});

Deno.test("a txn putting one key twice, or a key it deletes, is refused and changes nothing", () => {
  const s = new KvState();
  const [twice, both] = run(
    s,
    { type: "txn", compare: [], success: [put("a", "1"), put("a", "2")], failure: [] },
    {
      type: "txn",
      compare: [],
      success: [],
      failure: [{ type: "deleteRange", key: "a", rangeEnd: "b" }, put("a/x", "1")],
    },
  );
  assert.deepEqual(twice, { status: "error", error: ErrDuplicateKey });
  assert.deepEqual(both, { status: "error", error: ErrDuplicateKey });
  assert.equal(s.revision, 1);
});

Deno.test("leases: a put needs a live lease; revoking deletes its keys in one revision", () => {
  const s = new KvState();
  const answers = run(
    s,
    put("a", "1", 7),
    { type: "leaseGrant", id: 7, ttl: 10 },
    { type: "leaseGrant", id: 7, ttl: 10 },
    put("a", "1", 7),
    put("b", "2", 7),
    put("c", "3"),
    { type: "leaseRevoke", id: 7 },
    { type: "leaseRevoke", id: 7 },
  );
  assert.deepEqual(answers.map((a) => a.status === "ok" ? a.revision : a.error), [
    ErrLeaseNotFound,
    1,
    ErrLeaseExist,
    2,
    3,
    4,
    5,
    ErrLeaseNotFound,
  ]);
  assert.deepEqual(s.keys(() => true), ["c"]);
  // A put without a lease detaches the key from its old one.
  run(s, { type: "leaseGrant", id: 8, ttl: 10 }, put("d", "1", 8), put("d", "2"), {
    type: "leaseRevoke",
    id: 8,
  });
  assert.deepEqual(s.get("d"), kv("d", "2", 6, 7, 2));
});

Deno.test("a read of a future revision is refused; of an older one, answered at the current header", () => {
  const s = new KvState();
  run(s, put("a", "1"), put("a", "2"));
  const [future, old] = run(s, { type: "range", key: "a", revision: 4 }, {
    type: "range",
    key: "a",
    revision: 2,
  });
  assert.deepEqual(future, { status: "error", error: ErrFutureRev });
  assert.deepEqual(old, { status: "ok", revision: 3 });
});

Deno.test("undo restores the store and its fingerprint exactly", () => {
  const s = new KvState();
  run(s, put("a", "1"), { type: "leaseGrant", id: 5, ttl: 1 });
  const [before, print] = [s.describe(), s.fingerprint()];
  const mark = s.mark();
  run(s, put("a", "2", 5), put("b", "3"), { type: "leaseRevoke", id: 5 }, {
    type: "deleteRange",
    key: "b",
  });
  assert.notEqual(s.fingerprint(), print);
  s.undo(mark);
  assert.equal(s.describe(), before);
  assert.equal(s.fingerprint(), print);
  // Equal stores reached by different paths print alike.
  const t = new KvState();
  run(t, { type: "leaseGrant", id: 5, ttl: 1 }, put("a", "1"));
  assert.equal(t.fingerprint(), s.fingerprint());
});
