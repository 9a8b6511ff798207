import assert from "node:assert/strict";
import fc from "fast-check";
import {
  fromJSON,
  type MessageName,
  messages,
  ProtoJsonError,
  schema,
  toJSON,
} from "../../src/pb/mod.ts";
import { assertEquals, messageArb, normalize } from "../helpers/codec.ts";

const te = new TextEncoder();
const header = {
  clusterId: 18252365167014512659n,
  memberId: 11759525908296983115n,
  revision: 2,
  raftTerm: 2,
};
const headerJson = {
  cluster_id: "18252365167014512659",
  member_id: "11759525908296983115",
  revision: "2",
  raft_term: "2",
};

Deno.test("json: every message survives toJSON -> text -> fromJSON", () => {
  for (const name of Object.keys(schema.messages) as MessageName[]) {
    fc.assert(
      fc.property(messageArb(name), (msg) => {
        // deno-lint-ignore no-explicit-any
        const text = JSON.stringify(toJSON(name, msg as any));
        assertEquals(fromJSON(name, JSON.parse(text)), normalize(name, msg), name);
      }),
      { numRuns: 15 },
    );
  }
});

Deno.test("json: responses print as etcd's gateway does", () => {
  assert.equal(
    JSON.stringify(toJSON("etcdserverpb.PutResponse", {
      header,
      prevKv: {
        key: te.encode("foo"),
        createRevision: 2,
        modRevision: 2,
        version: 1,
        value: te.encode("bar"),
      },
    })),
    JSON.stringify({
      header: headerJson,
      prev_kv: {
        key: "Zm9v",
        create_revision: "2",
        mod_revision: "2",
        version: "1",
        value: "YmFy",
      },
    }),
  );
  // A missing key: no kvs, no count; nested txn headers carry only the revision.
  assert.deepEqual(toJSON("etcdserverpb.RangeResponse", { header, kvs: [], count: 0 }), {
    header: headerJson,
  });
  assert.deepEqual(
    toJSON("etcdserverpb.TxnResponse", {
      header,
      succeeded: true,
      responses: [{ responsePut: { header: { revision: 4 } } }],
    }),
    {
      header: headerJson,
      succeeded: true,
      responses: [{ response_put: { header: { revision: "4" } } }],
    },
  );
  // Names that are not snake_case stay as written; int64 as strings.
  assert.deepEqual(
    toJSON("etcdserverpb.LeaseTimeToLiveResponse", { ID: 12345n, TTL: -1, grantedTTL: 30 }),
    { ID: "12345", TTL: "-1", grantedTTL: "30" },
  );
  // Enums by name; the zero value (PUT) is omitted.
  assert.deepEqual(
    toJSON("etcdserverpb.WatchResponse", {
      events: [{ type: 0, kv: { key: te.encode("w") } }, { type: 1, kv: { modRevision: 8 } }],
    }),
    { events: [{ kv: { key: "dw==" } }, { type: "DELETE", kv: { mod_revision: "8" } }] },
  );
  assert.deepEqual(toJSON("etcdserverpb.AlarmResponse", { alarms: [] }), {});
});

Deno.test("json: requests accept proto and lowerCamel names, numbers or strings", () => {
  const txn = fromJSON("etcdserverpb.TxnRequest", {
    compare: [{ target: "VALUE", result: "EQUAL", key: "Zm9v", value: "YmF6" }],
    success: [{ requestPut: { key: "Zm9v", value: "cXV4", lease: "7082933086432545298" } }],
    failure: [{ request_range: { key: "Zm9v", range_end: "Zm9w", limit: 5 } }],
  });
  assert.equal(txn.compare[0].target, 3);
  assert.deepEqual(txn.compare[0].value, te.encode("baz"));
  assert.equal(txn.success[0].requestPut!.lease, 7082933086432545298n);
  assert.deepEqual(txn.failure[0].requestRange!.rangeEnd, te.encode("fop"));
  assert.equal(txn.failure[0].requestRange!.limit, 5);
  assert.equal(fromJSON("etcdserverpb.LeaseGrantRequest", { TTL: "30", ID: 7 }).ID, 7n);
  assert.equal(fromJSON("etcdserverpb.RangeRequest", { sortOrder: 2 }).sortOrder, 2);
  assert.equal(fromJSON("etcdserverpb.RangeRequest", { sort_order: "DESCEND" }).sortOrder, 2);
  // URL-safe base64 and missing padding are accepted.
  assert.deepEqual(fromJSON("mvccpb.KeyValue", { key: "-_8" }).key, new Uint8Array([0xfb, 0xff]));
  // null means default.
  assert.deepEqual(
    fromJSON("etcdserverpb.PutRequest", { key: null }),
    messages["etcdserverpb.PutRequest"].create(),
  );
});

Deno.test("json: bad input is a ProtoJsonError", () => {
  const bad: [MessageName, unknown][] = [
    ["etcdserverpb.PutRequest", []],
    ["etcdserverpb.PutRequest", { nope: 1 }],
    ["etcdserverpb.PutRequest", { key: 5 }],
    ["etcdserverpb.PutRequest", { key: "!!" }],
    ["etcdserverpb.PutRequest", { lease: "1.5" }],
    ["etcdserverpb.PutRequest", { prev_kv: "true" }],
    ["etcdserverpb.RangeRequest", { sort_order: "SIDEWAYS" }],
    ["etcdserverpb.RangeRequest", { limit: "9223372036854775808" }],
    ["etcdserverpb.HashResponse", { hash: -1 }],
    ["etcdserverpb.TxnRequest", { compare: {} }],
    ["etcdserverpb.RequestOp", { request_range: {}, request_put: {} }],
  ];
  for (const [name, json] of bad) {
    assert.throws(() => fromJSON(name, json), ProtoJsonError, JSON.stringify(json));
  }
});
