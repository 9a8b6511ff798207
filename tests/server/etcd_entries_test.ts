// A taken-over WAL's entries: those after the backend's consistent index stay as etcd wrote
// them (etcd-ts refuses, saying what to do, only what it cannot apply); those the backend
// applied are replayed into the v2 store and the membership, as etcd does from its snapshot.
import assert from "node:assert/strict";
import { messages } from "../../src/pb/mod.ts";
import { ConfChangeType, encodeConfChange, type Entry, EntryType } from "../../src/raft/mod.ts";
import { checkEtcdEntries, replayCluster } from "../../src/server/etcd_db/entries.ts";
import { Backend } from "../../src/server/backend.ts";
import { memberJSON, Membership, promoteContextJSON } from "../../src/server/membership.ts";
import { MembershipStore } from "../../src/server/membership_store.ts";
import { encodeProposal } from "../../src/server/proposal.ts";
import { encodeEtcdV2Request, etcdV2Request } from "../../src/server/v2_request.ts";
import { MemberV2Store } from "../../src/server/v2_store.ts";
import { testLog } from "../helpers/log.ts";
import { tempDir } from "../helpers/tmp.ts";

const utf8 = new TextEncoder();
const A = 0xc4d2b988cdb4bc6en;
const B = 0x1234n;

const normal = (index: number, data: Uint8Array): Entry => ({
  type: EntryType.Normal,
  term: 2,
  index,
  data,
});
const conf = (index: number, type: ConfChangeType, nodeId: bigint, context = ""): Entry => ({
  type: EntryType.ConfChange,
  term: 2,
  index,
  data: encodeConfChange({ id: index, type, nodeId, context: utf8.encode(context) }),
});
const member = (id: bigint, port: number, isLearner = false) => ({
  id,
  name: "",
  peerURLs: [`http://127.0.0.1:${port}`],
  clientURLs: [],
  isLearner,
});

Deno.test("etcd entries: what etcd-ts cannot apply is refused, saying what to do", () => {
  const refused = (e: Entry, what: RegExp) =>
    assert.throws(() => checkEtcdEntries([e]), (err: Error) => {
      assert.match(err.message, what);
      assert.match(err.message, /stop it cleanly, then start etcd-ts/);
      return true;
    });
  const confChangeV2 = 2 as EntryType; // etcd 3.4 never writes one
  refused(
    { type: confChangeV2, term: 2, index: 8, data: new Uint8Array([1]) },
    /entry 8 \(entry type 2\)/,
  );
  const range = messages["etcdserverpb.InternalRaftRequest"].encode({
    header: { ID: 5n },
    range: { key: utf8.encode("a") },
  });
  refused(normal(9, range), /entry 9 \(an InternalRaftRequest without a request/);
  checkEtcdEntries([
    normal(10, encodeProposal({ kind: "put", id: 1n, request: { key: utf8.encode("k") } })),
    normal(11, new Uint8Array()),
    conf(12, ConfChangeType.RemoveNode, A),
  ]);
});

Deno.test("etcd entries: the applied ones rebuild /0 and the membership as etcd does", async () => {
  await using dir = tempDir();
  const backend = new Backend(`${dir.path}/db`);
  const aux = () => backend.aux;
  const v2 = new MemberV2Store(aux, () => 0);
  const membership = new Membership(1n);
  const ctx = {
    log: testLog().log,
    membership,
    cluster: new MembershipStore(membership, v2, aux),
    v2,
    backend,
  };
  const put = (path: string, val: string) =>
    encodeEtcdV2Request(7n, etcdV2Request({ Method: "PUT", Path: path, Val: val }));
  const confState = replayCluster(ctx, { voters: [], learners: [] }, [
    conf(1, ConfChangeType.AddNode, A, memberJSON({ ...member(A, 2380), name: "a" })),
    normal(2, put(`/0/members/${A.toString(16)}/attributes`, `{"name":"a"}`)),
    normal(3, put("/0/version", "3.4.0")),
    normal(4, put("/1/foo", "bar")),
    conf(5, ConfChangeType.AddLearnerNode, B, memberJSON(member(B, 2390, true))),
    conf(6, ConfChangeType.AddNode, B, memberJSON(member(B, 2391))), // refused: B exists
    conf(7, ConfChangeType.AddNode, B, promoteContextJSON(B)),
    conf(8, ConfChangeType.UpdateNode, B, memberJSON(member(B, 2392))),
  ]);
  assert.deepEqual(confState, { voters: [B, A].sort((x, y) => (x < y ? -1 : 1)), learners: [] });
  assert.deepEqual(membership.get(B)?.peerURLs, ["http://127.0.0.1:2392"]);
  assert.equal(membership.get(B)?.isLearner, false);
  assert.equal(membership.get(A)?.name, "a");
  assert.equal(membership.version, "3.4.0");
  assert.ok(backend.confChangeRefused(6), "the refused add is remembered for restarts");
  const node = (path: string) => v2.store.get(path).node!;
  assert.equal(
    node(`/0/members/${B.toString(16)}/raftAttributes`).value,
    `{"peerURLs":["http://127.0.0.1:2392"]}`,
  );
  assert.equal(node(`/0/members/${A.toString(16)}/attributes`).value, `{"name":"a"}`);
  assert.equal(node("/1/foo").value, "bar");
  // etcd's index: A's raft attributes (1), its attributes (2), the version (3), /1/foo (4),
  // B's raft attributes (5), promoted (6), updated (7).
  assert.equal(v2.store.index, 7);
  const removed = replayCluster(ctx, confState, [conf(9, ConfChangeType.RemoveNode, A)]);
  assert.deepEqual(removed, { voters: [B], learners: [] });
  assert.deepEqual([...membership.removed], [A]);
  assert.equal(node(`/0/removed_members/${A.toString(16)}`).value, "");
  backend.close();
});
