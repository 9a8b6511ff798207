// Request tables for apply_kv_test.ts. Expectations were checked against etcd 3.4.23
// (same setup, same requests through its JSON gateway).
import type { RangeRequest, TxnRequest } from "../../src/server/kv_types.ts";
import { CompareResult, CompareTarget, SortOrder, SortTarget } from "../../src/server/kv_types.ts";

const enc = new TextEncoder();
export const b = (s: string): Uint8Array => enc.encode(s);
const Z = new Uint8Array([0]);

// Setup, one revision each: 2 a=1, 3 k1=vk1, 4 k2=vk2, 5 k3=vk3, 6 k4=vk4, 7 k2=zz, 8 k9=a,
// 9 delete k4.
export const SETUP: [string, string | null][] = [
  ["a", "1"],
  ["k1", "vk1"],
  ["k2", "vk2"],
  ["k3", "vk3"],
  ["k4", "vk4"],
  ["k2", "zz"],
  ["k9", "a"],
  ["k4", null],
];

export interface RangeCase {
  name: string;
  req: RangeRequest;
  // keys (with values unless keys_only) in order, more, count; or an error message part.
  want: { kvs: string[]; more: boolean; count: number } | string;
}

const K: RangeRequest = { key: b("k"), rangeEnd: b("l") };

export const RANGE_CASES: RangeCase[] = [
  { name: "single key", req: { key: b("k1") }, want: { kvs: ["k1=vk1"], more: false, count: 1 } },
  { name: "missing key", req: { key: b("nope") }, want: { kvs: [], more: false, count: 0 } },
  { name: "deleted key", req: { key: b("k4") }, want: { kvs: [], more: false, count: 0 } },
  {
    name: "prefix",
    req: K,
    want: { kvs: ["k1=vk1", "k2=zz", "k3=vk3", "k9=a"], more: false, count: 4 },
  },
  {
    name: "limit",
    req: { ...K, limit: 2 },
    want: { kvs: ["k1=vk1", "k2=zz"], more: true, count: 4 },
  },
  {
    name: "limit = count",
    req: { ...K, limit: 4 },
    want: { kvs: ["k1=vk1", "k2=zz", "k3=vk3", "k9=a"], more: false, count: 4 },
  },
  {
    name: "count_only",
    req: { ...K, countOnly: true, limit: 1 },
    want: { kvs: [], more: false, count: 4 },
  },
  {
    name: "keys_only",
    req: { ...K, keysOnly: true, limit: 1 },
    want: { kvs: ["k1"], more: true, count: 4 },
  },
  {
    name: "from key",
    req: { key: b("k2"), rangeEnd: Z },
    want: { kvs: ["k2=zz", "k3=vk3", "k9=a"], more: false, count: 3 },
  },
  {
    name: "whole key space",
    req: { key: Z, rangeEnd: Z, keysOnly: true },
    want: { kvs: ["a", "k1", "k2", "k3", "k9"], more: false, count: 5 },
  },
  {
    name: "range end before key",
    req: { key: b("k3"), rangeEnd: b("k1") },
    want: { kvs: [], more: false, count: 0 },
  },
  {
    name: "filters apply before limit, count ignores them",
    req: { ...K, limit: 2, minModRevision: 5 },
    want: { kvs: ["k2=zz", "k3=vk3"], more: true, count: 4 },
  },
  {
    name: "max mod",
    req: { ...K, maxModRevision: 5 },
    want: { kvs: ["k1=vk1", "k3=vk3"], more: false, count: 4 },
  },
  {
    name: "min create",
    req: { ...K, minCreateRevision: 5 },
    want: { kvs: ["k3=vk3", "k9=a"], more: false, count: 4 },
  },
  {
    name: "max create",
    req: { ...K, maxCreateRevision: 4 },
    want: { kvs: ["k1=vk1", "k2=zz"], more: false, count: 4 },
  },
  {
    name: "sort VALUE, order NONE sorts only the first limit+1 keys",
    req: { ...K, limit: 1, sortTarget: SortTarget.VALUE },
    want: { kvs: ["k1=vk1"], more: true, count: 4 },
  },
  {
    name: "sort VALUE ascend",
    req: { ...K, limit: 1, sortTarget: SortTarget.VALUE, sortOrder: SortOrder.ASCEND },
    want: { kvs: ["k9=a"], more: true, count: 4 },
  },
  {
    name: "sort KEY descend",
    req: { ...K, limit: 2, sortOrder: SortOrder.DESCEND },
    want: { kvs: ["k9=a", "k3=vk3"], more: true, count: 4 },
  },
  {
    name: "sort KEY ascend",
    req: { ...K, limit: 2, sortOrder: SortOrder.ASCEND },
    want: { kvs: ["k1=vk1", "k2=zz"], more: true, count: 4 },
  },
  {
    name: "sort VERSION descend, ties in key order",
    req: { ...K, sortTarget: SortTarget.VERSION, sortOrder: SortOrder.DESCEND, keysOnly: true },
    want: { kvs: ["k2", "k1", "k3", "k9"], more: false, count: 4 },
  },
  {
    name: "sort VERSION, order NONE = ascend",
    req: { ...K, sortTarget: SortTarget.VERSION, keysOnly: true },
    want: { kvs: ["k1", "k3", "k9", "k2"], more: false, count: 4 },
  },
  {
    name: "sort CREATE descend",
    req: { ...K, sortTarget: SortTarget.CREATE, sortOrder: SortOrder.DESCEND, keysOnly: true },
    want: { kvs: ["k9", "k3", "k2", "k1"], more: false, count: 4 },
  },
  {
    name: "sort MOD descend limit",
    req: {
      ...K,
      sortTarget: SortTarget.MOD,
      sortOrder: SortOrder.DESCEND,
      limit: 2,
      keysOnly: true,
    },
    want: { kvs: ["k9", "k2"], more: true, count: 4 },
  },
  {
    name: "sort VALUE descend keys_only",
    req: { ...K, sortTarget: SortTarget.VALUE, sortOrder: SortOrder.DESCEND, keysOnly: true },
    want: { kvs: ["k2", "k3", "k1", "k9"], more: false, count: 4 },
  },
  {
    name: "historic revision",
    req: { ...K, revision: 6 },
    want: { kvs: ["k1=vk1", "k2=vk2", "k3=vk3", "k4=vk4"], more: false, count: 4 },
  },
  {
    name: "historic with limit and filter",
    req: { ...K, revision: 6, limit: 1, minModRevision: 4 },
    want: { kvs: ["k2=vk2"], more: true, count: 4 },
  },
  { name: "revision 1", req: { ...K, revision: 1 }, want: { kvs: [], more: false, count: 0 } },
  {
    name: "current revision",
    req: { key: b("k9"), revision: 9 },
    want: { kvs: ["k9=a"], more: false, count: 1 },
  },
  {
    name: "future revision",
    req: { ...K, revision: 10 },
    want: "required revision is a future revision",
  },
];

// Txns applied in order on top of SETUP (current revision 9); each shows the branch taken,
// the response revisions and what the ops returned.
export interface TxnCase {
  name: string;
  req: TxnRequest;
  want: unknown;
}

const cmp = (
  key: string,
  target: CompareTarget,
  result: CompareResult,
  v: Partial<
    { version: number; createRevision: number; modRevision: number; value: string; lease: bigint }
  >,
  rangeEnd?: string,
) => ({
  key: b(key),
  target,
  result,
  ...v,
  value: v.value === undefined ? undefined : b(v.value),
  rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd),
});

export const TXN_CASES: TxnCase[] = [
  {
    name: "empty txn succeeds and changes nothing",
    req: {},
    want: { rev: 9, succeeded: true, responses: [] },
  },
  {
    name: "version equal on existing key",
    req: { compare: [cmp("k2", CompareTarget.VERSION, CompareResult.EQUAL, { version: 2 })] },
    want: { rev: 9, succeeded: true, responses: [] },
  },
  {
    name: "missing key compares as zero",
    req: {
      compare: [
        cmp("nope", CompareTarget.VERSION, CompareResult.EQUAL, { version: 0 }),
        cmp("nope", CompareTarget.CREATE, CompareResult.EQUAL, { createRevision: 0 }),
        cmp("nope", CompareTarget.MOD, CompareResult.LESS, { modRevision: 1 }),
        cmp("nope", CompareTarget.LEASE, CompareResult.EQUAL, { lease: 0n }),
      ],
    },
    want: { rev: 9, succeeded: true, responses: [] },
  },
  {
    name: "value compare on a missing key is false, even NOT_EQUAL",
    req: { compare: [cmp("nope", CompareTarget.VALUE, CompareResult.NOT_EQUAL, { value: "x" })] },
    want: { rev: 9, succeeded: false, responses: [] },
  },
  {
    name: "compare over a range: every key must satisfy",
    req: {
      compare: [cmp("k", CompareTarget.VERSION, CompareResult.GREATER, { version: 0 }, "l")],
      success: [{ requestRange: { key: b("k1") } }],
    },
    want: {
      rev: 9,
      succeeded: true,
      responses: [{ range: { rev: 9, kvs: ["k1=vk1"], count: 1, more: false } }],
    },
  },
  {
    name: "range compare failing for one key",
    req: {
      compare: [cmp("k", CompareTarget.VERSION, CompareResult.EQUAL, { version: 1 }, "l")],
      failure: [{ requestRange: { key: b("k2"), keysOnly: true } }],
    },
    want: {
      rev: 9,
      succeeded: false,
      responses: [{ range: { rev: 9, kvs: ["k2"], count: 1, more: false } }],
    },
  },
  {
    name: "a union member other than the target counts as zero",
    req: { compare: [cmp("k1", CompareTarget.VERSION, CompareResult.GREATER, { value: "x" })] },
    want: { rev: 9, succeeded: true, responses: [] },
  },
  {
    name: "value, create, mod and lease compares",
    req: {
      compare: [
        cmp("k2", CompareTarget.VALUE, CompareResult.GREATER, { value: "z" }),
        cmp("k2", CompareTarget.CREATE, CompareResult.EQUAL, { createRevision: 4 }),
        cmp("k2", CompareTarget.MOD, CompareResult.NOT_EQUAL, { modRevision: 4 }),
        cmp("k2", CompareTarget.LEASE, CompareResult.EQUAL, { lease: 0n }),
      ],
    },
    want: { rev: 9, succeeded: true, responses: [] },
  },
  {
    name: "ops share one revision; ranges see earlier writes; nested headers stay zero",
    req: {
      success: [
        { requestRange: { key: b("a") } },
        { requestPut: { key: b("b"), value: b("2") } },
        { requestRange: { key: b("b") } },
        {
          requestTxn: {
            // Evaluated before the outer puts: b does not exist yet.
            compare: [cmp("b", CompareTarget.VERSION, CompareResult.EQUAL, { version: 0 })],
            success: [{ requestRange: { key: b("b") } }],
            failure: [{ requestPut: { key: b("c"), value: b("3") } }],
          },
        },
        { requestDeleteRange: { key: b("zz") } },
        { requestDeleteRange: { key: b("k1"), prevKv: true } },
      ],
    },
    want: {
      rev: 10,
      succeeded: true,
      responses: [
        { range: { rev: 9, kvs: ["a=1"], count: 1, more: false } },
        { put: { rev: 10 } },
        { range: { rev: 10, kvs: ["b=2"], count: 1, more: false } },
        {
          txn: {
            rev: 0,
            succeeded: true,
            responses: [{ range: { rev: 10, kvs: ["b=2"], count: 1, more: false } }],
          },
        },
        { delete: { rev: 10, deleted: 0, prevKvs: [] } },
        { delete: { rev: 10, deleted: 1, prevKvs: ["k1=vk1"] } },
      ],
    },
  },
  {
    name: "a txn that deletes nothing keeps the revision",
    req: { success: [{ requestDeleteRange: { key: b("nothing") } }] },
    want: {
      rev: 10,
      succeeded: true,
      responses: [{ delete: { rev: 10, deleted: 0, prevKvs: [] } }],
    },
  },
  {
    name: "delete before put in one branch (from-key delete is not seen as overlapping)",
    req: {
      success: [
        { requestDeleteRange: { key: b("x"), rangeEnd: Z } },
        { requestPut: { key: b("y"), value: b("2"), prevKv: true } },
      ],
    },
    want: {
      rev: 11,
      succeeded: true,
      responses: [{ delete: { rev: 10, deleted: 0, prevKvs: [] } }, { put: { rev: 11 } }],
    },
  },
  {
    name: "range at an explicit revision inside a txn",
    req: { success: [{ requestRange: { key: b("k1"), revision: 5 } }] },
    want: {
      rev: 11,
      succeeded: true,
      responses: [{ range: { rev: 11, kvs: ["k1=vk1"], count: 1, more: false } }],
    },
  },
  {
    name: "range at a future revision fails the txn before anything is written",
    req: {
      success: [{ requestPut: { key: b("q"), value: b("2") } }, {
        requestRange: { key: b("q"), revision: 100 },
      }],
    },
    want: "required revision is a future revision",
  },
  {
    name: "ignore_value on a missing key fails before the lease check",
    req: { success: [{ requestPut: { key: b("nokey"), ignoreValue: true, lease: 12345n } }] },
    want: "etcdserver: key not found",
  },
  {
    name: "unknown lease in a txn put",
    req: { success: [{ requestPut: { key: b("k2"), lease: 12345n } }] },
    want: "requested lease not found",
  },
  {
    name: "errors only count on the branch taken",
    req: {
      compare: [cmp("k2", CompareTarget.VERSION, CompareResult.EQUAL, { version: 2 })],
      failure: [{ requestPut: { key: b("k2"), lease: 12345n } }],
      success: [{ requestPut: { key: b("k2"), ignoreValue: true } }],
    },
    want: { rev: 12, succeeded: true, responses: [{ put: { rev: 12 } }] },
  },
];
