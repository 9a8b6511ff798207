// Requests as etcd 3.4 prints them in its slow-request warnings. The expected strings were
// printed by etcd 3.4.23 itself (--experimental-warning-apply-duration=1ns) for the same
// requests, except the oneof at zero and the user's header, which follow the rules of Go's
// text format (golang/protobuf 1.3) that etcd's String methods use.
import assert from "node:assert/strict";
import { compactText, proposalText, protoQuote } from "../../src/server/request_text.ts";
import type { Proposal } from "../../src/server/proposal.ts";
import {
  AlarmRequest_AlarmAction,
  AlarmType,
  Compare_CompareResult,
  Compare_CompareTarget,
} from "../../src/pb/mod.ts";

const b = (s: string) => new TextEncoder().encode(s);
const p = (kind: string, request: unknown, id = 7160620400635576581n) =>
  ({ kind, id, request }) as Proposal;

Deno.test("put, delete, compaction, alarm and lease requests read as etcd's", () => {
  const cases: [Proposal, string][] = [
    [
      p("put", { key: b("foo"), value: b("bar") }),
      'header:<ID:7160620400635576581 > put:<key:"foo" value_size:3 >',
    ],
    [
      p("put", { key: b("foo"), value: b("") }),
      'header:<ID:7160620400635576581 > put:<key:"foo" >',
    ],
    [
      p("put", { key: b("k"), value: b("v"), prevKv: true }),
      'header:<ID:7160620400635576581 > put:<key:"k" value_size:1 prev_kv:true >',
    ],
    [
      p("deleteRange", { key: b("foo") }),
      'header:<ID:7160620400635576581 > delete_range:<key:"foo" > ',
    ],
    [
      p("compaction", { revision: 3, physical: false }),
      "header:<ID:7160620400635576581 > compaction:<revision:3 > ",
    ],
    [
      p("alarm", { action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE }),
      "header:<ID:7160620400635576581 > alarm:<> ",
    ],
    [
      p("leaseGrant", { ID: 0x635fa250d74c810an, TTL: 100 }),
      "header:<ID:7160620400635576581 > lease_grant:<ttl:100-second id:635fa250d74c810a>",
    ],
    [
      p("leaseRevoke", { ID: 0x1234n }),
      "header:<ID:7160620400635576581 > lease_revoke:<id:0000000000001234>",
    ],
  ];
  for (const [proposal, want] of cases) assert.equal(proposalText(proposal), want);
});

Deno.test("a txn shows compares, value sizes and nested operations as etcd's stringer does", () => {
  const txn = {
    compare: [{
      result: Compare_CompareResult.EQUAL,
      target: Compare_CompareTarget.VALUE,
      key: b("foo"),
      value: b("x"),
    }],
    success: [
      { requestPut: { key: b("a"), value: b("1") } },
      { requestPut: { key: b("b"), value: b("22") } },
    ],
    failure: [{ requestRange: { key: b("a") } }],
  };
  assert.equal(
    proposalText(p("txn", txn)),
    'header:<ID:7160620400635576581 > txn:<compare:<target:VALUE key:"foo" value_size:1 > ' +
      'success:<request_put:<key:"a" value_size:1 > request_put:<key:"b" value_size:2 >> ' +
      'failure:<request_range:<key:"a" > >>',
  );
});

Deno.test("the member's attributes and the cluster version read as etcd's v2 requests", () => {
  assert.equal(
    proposalText(p("memberAttrSet", {
      memberId: 0x35a9a5aecdca635fn,
      name: "default",
      clientURLs: ["http://127.0.140.1:2379"],
    }, 7160620400635576578n)),
    'ID:7160620400635576578 Method:"PUT" Path:"/0/members/35a9a5aecdca635f/attributes" ' +
      'Val:"{\\"name\\":\\"default\\",\\"clientURLs\\":[\\"http://127.0.140.1:2379\\"]}" ',
  );
  assert.equal(
    proposalText(p("clusterVersionSet", { version: "3.4.0" }, 7160620400635576580n)),
    'ID:7160620400635576580 Method:"PUT" Path:"/0/version" Val:"3.4.0" ',
  );
});

Deno.test("bytes are escaped as Go's text format does, and reads print every set field", () => {
  assert.equal(
    protoQuote(new Uint8Array([0x71, 0x22, 0x5c, 0x0a, 0xff, 0x01])),
    '"q\\"\\\\\\n\\377\\001"',
  );
  assert.equal(
    compactText("etcdserverpb.RangeRequest", { key: b("foo"), serializable: true, limit: 0 }),
    'key:"foo" serializable:true ',
  );
  assert.equal(
    compactText("etcdserverpb.RangeRequest", {
      key: b("a"),
      rangeEnd: b("b"),
      limit: 1,
      sortOrder: 2,
      sortTarget: 3,
    }),
    'key:"a" range_end:"b" limit:1 sort_order:DESCEND sort_target:MOD ',
  );
  // A oneof member prints even at its zero value.
  assert.equal(
    compactText("etcdserverpb.Compare", { key: b("k"), version: 0 }),
    'key:"k" version:0 ',
  );
});

Deno.test("a user's request carries the name and auth revision in its header", () => {
  const proposal = {
    kind: "put",
    id: 5n,
    request: { key: b("k"), value: b("v") },
    auth: { username: "root", revision: 2 },
  } as Proposal;
  assert.equal(
    proposalText(proposal),
    'header:<ID:5 username:"root" auth_revision:2 > put:<key:"k" value_size:1 >',
  );
});
