import { deepEqual as assertEquals } from "node:assert/strict";
import { computeClusterId, computeMemberId, formatId, parseId } from "../../src/server/ids.ts";

// Real values from etcd 3.4.23 (spec/bootstrap.md §1-2).
const memberCases: [string[], string, string][] = [
  [["http://127.0.5.1:2380"], "etcd-cluster", "a3323a824b0b624b"],
  [["http://127.0.5.11:2380"], "tok-c3", "d80f6aa5d69d3cd1"],
  [["http://127.0.5.12:2380"], "tok-c3", "91ad85a1162022be"],
  [["http://127.0.5.13:2380"], "tok-c3", "ec2f7ad7d54365c8"],
  [["http://127.0.5.21:2380"], "http://127.0.5.1:2379/v2/keys/discovery/tok3", "ea6f791ff0d40254"],
  [
    ["http://127.0.5.41:2381", "http://127.0.5.41:2380"],
    "http://127.0.5.1:2379/v2/keys/discovery/tokp",
    "5ad0f48cf885bc60",
  ],
];

Deno.test("member IDs match etcd's for the same peer URLs and token", () => {
  for (const [urls, token, want] of memberCases) {
    assertEquals(formatId(computeMemberId(urls, token)), want, `${urls} ${token}`);
  }
});

Deno.test("cluster IDs match etcd's for the same member set", () => {
  assertEquals(formatId(computeClusterId([0xa3323a824b0b624bn])), "fd4d6d6a0a9d0813");
  const ids = [0xd80f6aa5d69d3cd1n, 0x91ad85a1162022ben, 0xec2f7ad7d54365c8n];
  assertEquals(formatId(computeClusterId(ids)), "47dbe5fe7d36e439");
  assertEquals(formatId(computeClusterId([...ids].reverse())), "47dbe5fe7d36e439");
});

Deno.test("runtime-added members hash the time, so their IDs differ by second", () => {
  const a = computeMemberId(["http://127.0.5.14:2380"], "", 1_700_000_000);
  const b = computeMemberId(["http://127.0.5.14:2380"], "", 1_700_000_001);
  assertEquals(a === b, false);
});

Deno.test("IDs print without leading zeros and parse back", () => {
  assertEquals(formatId(0x0abcn), "abc");
  assertEquals(parseId("a3323a824b0b624b"), 0xa3323a824b0b624bn);
  assertEquals(parseId("xyz"), undefined);
  assertEquals(parseId("12345678901234567"), undefined);
});
