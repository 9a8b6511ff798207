// The proxy's range cache: what a write drops, compaction, least-recently-used eviction.
import assert from "node:assert/strict";
import { overlaps, RangeCache } from "../../src/grpcproxy/mod.ts";
import type { RangeRequest, RangeResponse } from "../../src/pb/mod.ts";

const b = (s: string) => new TextEncoder().encode(s);
const NONE = new Uint8Array(0);
const ALL = new Uint8Array([0]);

function req(key: string, end: Uint8Array | string = NONE, revision = 0): RangeRequest {
  return {
    key: b(key),
    rangeEnd: typeof end === "string" ? b(end) : end,
    limit: 0,
    revision,
    sortOrder: 0,
    sortTarget: 0,
    serializable: true,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
  };
}

const resp = (count: number): RangeResponse => ({ kvs: [], more: false, count });

Deno.test("cache: a response is found by the whole request, serializable or not", () => {
  const c = new RangeCache();
  c.add({ ...req("a"), serializable: false }, resp(1));
  assert.equal((c.get(req("a")) as RangeResponse).count, 1);
  assert.equal(c.get({ ...req("a"), keysOnly: true }), undefined);
  assert.equal(c.get(req("b")), undefined);
});

Deno.test("cache: a write drops every cached range that holds the key, and only those", () => {
  const c = new RangeCache();
  c.add(req("a"), resp(1));
  c.add(req("a", "c"), resp(2)); // [a, c)
  c.add(req("b", ALL), resp(3)); // every key from b
  c.add(req("", ALL), resp(4)); // every key
  c.add(req("x"), resp(5));
  c.invalidate(b("b"), NONE);
  assert.ok(c.get(req("a")));
  assert.equal(c.get(req("a", "c")), undefined);
  assert.equal(c.get(req("b", ALL)), undefined);
  assert.equal(c.get(req("", ALL)), undefined);
  assert.ok(c.get(req("x")));
  assert.equal(c.size, 2);
  // A delete of a range drops what overlaps it: [w, y) holds x.
  c.invalidate(b("w"), b("y"));
  assert.equal(c.get(req("x")), undefined);
  assert.ok(c.get(req("a")));
});

Deno.test("cache: requests at a fixed revision survive writes; compaction answers compacted", () => {
  const c = new RangeCache();
  c.add(req("k", NONE, 5), resp(1));
  c.add(req("k"), resp(2));
  c.invalidate(b("k"), NONE);
  assert.equal((c.get(req("k", NONE, 5)) as RangeResponse).count, 1);
  assert.equal(c.get(req("k")), undefined);
  c.compact(7);
  assert.equal(c.get(req("k", NONE, 5)), "compacted");
  assert.equal(c.get(req("k", NONE, 5)), "compacted");
  // Reads of the latest revision are still cached after a compaction.
  c.add(req("k"), resp(3));
  assert.equal((c.get(req("k")) as RangeResponse).count, 3);
  c.add(req("k", NONE, 6), resp(4));
  assert.equal(c.get(req("k", NONE, 6)), "compacted");
});

Deno.test("cache: the least recently used response goes first when full", () => {
  const c = new RangeCache(3);
  for (const k of ["a", "b", "c"]) c.add(req(k), resp(1));
  assert.ok(c.get(req("a"))); // a is now the most recent
  c.add(req("d"), resp(1));
  assert.equal(c.size, 3);
  assert.equal(c.get(req("b")), undefined);
  assert.ok(c.get(req("a")));
  assert.ok(c.get(req("c")));
  // A write to the evicted key drops nothing that is cached.
  c.invalidate(b("b"), NONE);
  assert.equal(c.size, 3);
});

Deno.test("cache: key ranges overlap when one starts before the other ends", () => {
  const r = (start: string, end: Uint8Array | string = NONE) => ({
    start: b(start),
    end: typeof end === "string" ? b(end) : end,
  });
  assert.ok(overlaps(r("a"), r("a")));
  assert.ok(!overlaps(r("a"), r("b")));
  assert.ok(overlaps(r("a", "c"), r("b")));
  assert.ok(!overlaps(r("a", "c"), r("c")));
  assert.ok(overlaps(r("c"), r("a", ALL)));
  assert.ok(!overlaps(r("a"), r("b", ALL)));
  assert.ok(overlaps(r("b", "d"), r("c", "e")));
  assert.ok(!overlaps(r("b", "c"), r("c", "e")));
});
