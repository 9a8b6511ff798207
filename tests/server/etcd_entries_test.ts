// etcd 3.4's raft entries converted for this member (the tail of a taken-over WAL): each
// becomes the proposal that applies the same change here, or a refusal that says what to do.
import assert from "node:assert/strict";
import { messages } from "../../src/pb/mod.ts";
import {
  ConfChangeType,
  decodeConfChange,
  encodeConfChange,
  type Entry,
  EntryType,
} from "../../src/raft/mod.ts";
import { decodeProposal } from "../../src/server/proposal.ts";
import { confStateAfter, convertEtcdEntries } from "../../src/server/etcd_db/entries.ts";

const utf8 = new TextEncoder();
const b = (s: string) => utf8.encode(s);
const ID = 13577968394969282150n; // request IDs use all 64 bits

const normal = (index: number, data: Uint8Array): Entry => ({
  type: EntryType.Normal,
  term: 2,
  index,
  data,
});
const internal = (
  req: Parameters<typeof messages["etcdserverpb.InternalRaftRequest"]["encode"]>[0],
) => messages["etcdserverpb.InternalRaftRequest"].encode({ header: { ID }, ...req });

Deno.test("etcd entries: client requests keep their protobufs, IDs and users", () => {
  const [put, txn, grant, compact, leader] = convertEtcdEntries([
    normal(1, internal({ put: { key: b("k"), value: b("v"), lease: 5n } })),
    normal(
      2,
      internal({
        header: { ID, username: "alice", authRevision: 3 },
        txn: { success: [{ requestDeleteRange: { key: b("a"), rangeEnd: b("b") } }] },
      }),
    ),
    normal(3, internal({ leaseGrant: { TTL: 60, ID: 7n } })),
    normal(4, internal({ compaction: { revision: 9, physical: true } })),
    normal(5, new Uint8Array()),
  ]);
  const p = decodeProposal(put.data);
  assert.equal(p.kind, "put");
  assert.equal(p.id, ID);
  assert.deepEqual(p.kind === "put" && [p.request.key, p.request.value, p.request.lease], [
    b("k"),
    b("v"),
    5n,
  ]);
  const t = decodeProposal(txn.data);
  assert.equal(t.kind, "txn");
  assert.deepEqual(t.auth, { username: "alice", revision: 3 });
  assert.equal(decodeProposal(grant.data).kind, "leaseGrant");
  const c = decodeProposal(compact.data);
  assert.deepEqual(c.kind === "compaction" && c.request.revision, 9);
  assert.equal(leader.data.length, 0, "a new leader's empty entry stays empty");
  assert.deepEqual([put.index, put.term], [1, 2]);
});

Deno.test("etcd entries: 3.4's bare v2 requests for member attributes and the cluster version", () => {
  const v2 = (path: string, val: string) =>
    messages["etcdserverpb.Request"].encode({ ID: 99n, Method: "PUT", Path: path, Val: val });
  const [attr, version, wrapped] = convertEtcdEntries([
    normal(
      1,
      v2("/0/members/c4d2b988cdb4bc6e/attributes", `{"name":"e1","clientURLs":["http://c:2379"]}`),
    ),
    normal(2, v2("/0/version", "3.4.0")),
    normal(3, internal({ v2: { ID: 98n, Method: "PUT", Path: "/0/version", Val: "3.4.0" } })),
  ]);
  assert.deepEqual(decodeProposal(attr.data), {
    kind: "memberAttrSet",
    id: 99n,
    request: { memberId: 0xc4d2b988cdb4bc6en, name: "e1", clientURLs: ["http://c:2379"] },
  });
  assert.deepEqual(decodeProposal(version.data).request, { version: "3.4.0" });
  assert.equal(decodeProposal(wrapped.data).kind, "clusterVersionSet");
});

Deno.test("etcd entries: a conf change's member JSON becomes ours, IDs exact", () => {
  const context = b(`{"id":14182602173760978030,"peerURLs":["http://p:2380"],"isLearner":true}`);
  const [cc] = convertEtcdEntries([{
    type: EntryType.ConfChange,
    term: 2,
    index: 7,
    data: encodeConfChange({
      id: 1,
      type: ConfChangeType.AddLearnerNode,
      nodeId: 14182602173760978030n,
      context,
    }),
  }]);
  const got = decodeConfChange(cc.data);
  assert.equal(got.nodeId, 14182602173760978030n);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(got.context)), {
    id: "c4d2b988cdb4bc6e",
    name: "",
    peerURLs: ["http://p:2380"],
    clientURLs: [],
    isLearner: true,
  });
  const conf = (type: ConfChangeType, nodeId: bigint): Entry => ({
    type: EntryType.ConfChange,
    term: 1,
    index: 1,
    data: encodeConfChange({ id: 0, type, nodeId, context: new Uint8Array() }),
  });
  assert.deepEqual(
    confStateAfter({ voters: [1n], learners: [] }, [
      conf(ConfChangeType.AddLearnerNode, 3n),
      conf(ConfChangeType.AddNode, 2n),
      conf(ConfChangeType.AddNode, 3n), // promotion
      conf(ConfChangeType.RemoveNode, 1n),
    ]),
    { voters: [2n, 3n], learners: [] },
  );
});

Deno.test("etcd entries: what etcd-ts cannot apply is refused, saying what to do", () => {
  const refused = (e: Entry, what: RegExp) =>
    assert.throws(() => convertEtcdEntries([e]), (err: Error) => {
      assert.match(err.message, what);
      assert.match(err.message, /stop it cleanly, then start etcd-ts/);
      return true;
    });
  refused(
    normal(8, internal({ authUserAdd: { name: "u", password: "pw" } })),
    /entry 8 \(authUserAdd\)/,
  );
  refused(
    normal(9, messages["etcdserverpb.Request"].encode({ Method: "PUT", Path: "/1/foo", Val: "x" })),
    /entry 9 \(v2 PUT \/1\/foo\)/,
  );
  refused(normal(10, internal({ leaseCheckpoint: { checkpoints: [] } })), /leaseCheckpoint/);
  // Reads and logins change nothing: they become empty entries.
  const [range] = convertEtcdEntries([normal(11, internal({ range: { key: b("a") } }))]);
  assert.equal(range.data.length, 0);
});
