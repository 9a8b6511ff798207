// How the gateway picks an endpoint per connection (etcd's tcpproxy rules).
import assert from "node:assert/strict";
import { pickRemote, type Remote, stripScheme } from "../../src/gateway/mod.ts";

const remote = (addr: string, priority = 0, weight = 0, active = true): Remote => ({
  addr,
  priority,
  weight,
  active,
});

function picks(remotes: Remote[], n: number, random: () => number = Math.random): string[] {
  const state = { count: 0 };
  return Array.from({ length: n }, () => pickRemote(remotes, state, random)?.addr ?? "-");
}

Deno.test("pick: --endpoints entries round-robin, skipping inactive ones", () => {
  const rs = [remote("a"), remote("b"), remote("c")];
  assert.deepEqual(picks(rs, 6), ["a", "b", "c", "a", "b", "c"]);
  rs[1].active = false;
  assert.deepEqual(picks(rs, 4), ["a", "c", "a", "c"]);
  rs[0].active = rs[2].active = false;
  assert.deepEqual(picks(rs, 2), ["-", "-"]);
});

Deno.test("pick: the best priority among active remotes wins", () => {
  const rs = [remote("low", 1, 5), remote("best", 0, 5), remote("worst", 2, 5)];
  assert.deepEqual(picks(rs, 3), ["best", "best", "best"]);
  rs[1].active = false;
  assert.deepEqual(picks(rs, 2), ["low", "low"]);
});

Deno.test("pick: weights share out connections; weight 0 gets about 1%", () => {
  const rs = [remote("light", 0, 1), remote("heavy", 0, 3), remote("zero", 0, 0)];
  let seed = 7;
  const lcg = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const counts: Record<string, number> = { light: 0, heavy: 0, zero: 0 };
  for (const p of picks(rs, 20_000, lcg)) counts[p]++;
  assert.ok(Math.abs(counts.zero / 20_000 - 0.01) < 0.005, JSON.stringify(counts));
  // etcd's walk gives the first remote draws 0..weight (inclusive): 2 of 4 here, not 1 of 4.
  const light = counts.light / (counts.light + counts.heavy);
  assert.ok(Math.abs(light - 0.5) < 0.03, JSON.stringify(counts));
  // Deterministic draws: 0.75 * 4 = 3 passes light (3 - 1 > 0) and lands on heavy.
  assert.deepEqual(picks([remote("l", 0, 1), remote("h", 0, 3)], 1, () => 0.75), ["h"]);
  assert.deepEqual(picks([remote("l", 0, 1), remote("h", 0, 3)], 1, () => 0.2), ["l"]);
});

Deno.test("pick: unweighted remotes of a lower priority are still round-robined over all", () => {
  // etcd's round robin walks every remote, not only the best priority class.
  const rs = [remote("p1", 1), remote("p0", 0)];
  assert.deepEqual(picks(rs, 4), ["p1", "p0", "p1", "p0"]);
});

Deno.test("stripScheme: only scheme://host forms lose their prefix", () => {
  assert.equal(stripScheme("http://127.0.0.1:2379"), "127.0.0.1:2379");
  assert.equal(stripScheme("https://user@infra0.example.com.:2379/x"), "infra0.example.com.:2379");
  assert.equal(stripScheme("127.0.0.1:2379"), "127.0.0.1:2379");
  assert.equal(stripScheme("localhost:2379"), "localhost:2379");
  assert.equal(stripScheme("unix:///x"), "unix:///x");
});
