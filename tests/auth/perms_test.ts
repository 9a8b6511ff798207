// Permission coverage: the union of a user's permissions must cover a request's whole range.
import assert from "node:assert/strict";
import { type Permission, PermType, RangeSet } from "../../src/auth/mod.ts";

const b = (s: string) => new TextEncoder().encode(s);
const FROM_KEY = new Uint8Array([0]);
const NONE = new Uint8Array();

function perm(key: string, rangeEnd: string | Uint8Array = NONE): Permission {
  return {
    permType: PermType.READ,
    key: b(key),
    rangeEnd: typeof rangeEnd === "string" ? b(rangeEnd) : rangeEnd,
  };
}

Deno.test("a one-key permission covers that key only", () => {
  const set = new RangeSet([perm("foo")]);
  assert.equal(set.covers(b("foo"), NONE), true);
  assert.equal(set.covers(b("fo"), NONE), false);
  assert.equal(set.covers(b("foo0"), NONE), false);
  // A range holding just "foo" ([foo, foo\0)) is that key.
  assert.equal(set.covers(b("foo"), b("foo\0")), true);
  assert.equal(set.covers(b("foo"), b("fop")), false);
});

Deno.test("a prefix permission covers keys and ranges inside it, not beyond", () => {
  const set = new RangeSet([perm("pre/", "pre0")]);
  assert.equal(set.covers(b("pre/a"), NONE), true);
  assert.equal(set.covers(b("pre/"), b("pre0")), true);
  assert.equal(set.covers(b("pre/a"), b("pre/b")), true);
  assert.equal(set.covers(b("pre"), b("pre0")), false);
  assert.equal(set.covers(b("pre/"), b("pre1")), false);
  assert.equal(set.covers(b("pre/"), FROM_KEY), false);
});

Deno.test("a from-key permission covers everything from its key on", () => {
  const set = new RangeSet([perm("zz", FROM_KEY)]);
  assert.equal(set.covers(b("zz"), NONE), true);
  assert.equal(set.covers(b("zzz"), FROM_KEY), true);
  assert.equal(set.covers(b("zz"), b("\xff")), true);
  assert.equal(set.covers(b("z"), FROM_KEY), false);
  assert.equal(set.covers(b("a"), NONE), false);
});

Deno.test("adjacent and overlapping permissions join; a gap breaks coverage", () => {
  const set = new RangeSet([perm("c", "e"), perm("a", "c"), perm("d", "g"), perm("k")]);
  assert.equal(set.covers(b("a"), b("g")), true);
  assert.equal(set.covers(b("b"), b("f")), true);
  assert.equal(set.covers(b("a"), b("h")), false);
  assert.equal(set.covers(b("k"), NONE), true);
  assert.equal(set.covers(b("f"), b("k")), false);
  assert.equal(new RangeSet([]).covers(b("a"), NONE), false);
});

Deno.test("the whole key space needs a permission from the lowest key on", () => {
  const all = new Uint8Array([0]);
  assert.equal(new RangeSet([perm("\0", FROM_KEY)]).covers(all, FROM_KEY), true);
  assert.equal(new RangeSet([perm("a", FROM_KEY)]).covers(all, FROM_KEY), false);
});
