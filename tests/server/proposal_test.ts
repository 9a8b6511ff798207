// Raft entries in etcd 3.4's encoding: entries etcd 3.4.23 wrote (taken from its WAL after a put,
// a txn, leases, a compaction, auth changes with and without a user, an alarm, a learner added,
// member attributes, the cluster version and v2 writes) decode to the proposals etcd meant and
// encode back to the very same bytes; proposals etcd-ts makes encode as etcd would; and entries
// etcd-ts wrote before (the fixture data dir's WAL) still decode.
import assert from "node:assert/strict";
import { decodeConfChange, EntryType } from "../../src/raft/mod.ts";
import { NO_AUTH } from "../../src/auth/mod.ts";
import {
  decodeProposal,
  encodeProposal,
  type Proposal,
  proposalIdOf,
} from "../../src/server/proposal.ts";
import { etcdV2Request } from "../../src/server/v2_request.ts";
import { parseMemberJSON } from "../../src/server/membership.ts";
import { openWal } from "../../src/storage/mod.ts";
import { tempDir } from "../helpers/tmp.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((h) => parseInt(h, 16)));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const text = (s: string) => new TextEncoder().encode(s);

/** etcd 3.4.23's entries: [raft index, data]; its member ID is 4bf677ebc972e191. */
const ETCD_ENTRIES: [number, string][] = [
  [
    3,
    "0881ae998a94cae8c8e10112035055541a262f302f6d656d626572732f346266363737656263393732653139" +
    "312f6174747269627574657322367b226e616d65223a226531222c22636c69656e7455524c73223a5b2268" +
    "7474703a2f2f3132372e302e3235302e313a32333739225d7d2800320038004800500058006000680070007800800100",
  ],
  [
    4,
    "0884ae998a94cae8c8e10112035055541a0a2f302f76657273696f6e2205332e342e302800320038004800500058006000680070007800800100",
  ],
  [5, "220a0a03666f6f1203626172a2060b0885ae998a94cae8c8e101"],
  [6, "220d0a04666f6f3212036261722001a2060b0886ae998a94cae8c8e101"],
  [7, "420c08641087ae998a94cae8c861a2060b0888ae998a94cae8c8e101"],
  [8, "22120a026c6b12026c761887ae998a94cae8c861a2060b0889ae998a94cae8c8e101"],
  [9, "2a060a0166120167a2060b088aae998a94cae8c8e101"],
  [10, "3a020803a2060b088bae998a94cae8c8e101"],
  [11, "4a0a0887ae998a94cae8c861a2060b088cae998a94cae8c8e101"],
  [12, "a2060b088dae998a94cae8c8e101e2440c0a04726f6f74120270771a00"],
  [14, "a2060b088fae998a94cae8c8e1019a4b0e0a027231120808021201611a0162"],
  [17, "a2060b0892ae998a94cae8c8e1018245080a02753112027231"],
  [18, "a2060b0893ae998a94cae8c8e1018a45080a02753112027231"],
  [19, "a2060b0894ae998a94cae8c8e101a24b0a0a0272311201611a0162"],
  [20, "a2060b0895ae998a94cae8c8e101f244040a027531"],
  [21, "a2060b0896ae998a94cae8c8e101924500"],
  [22, "a2060b0897ae998a94cae8c8e101c23e00"],
  [26, "a2060b089cae998a94cae8c8e101a23f180a04726f6f741a1048797541715356746e666e61427a574d"],
  [27, "220d0a056166746572120461757468a20613089dae998a94cae8c8e1011204726f6f74180b"],
  [29, "a2061308a0ae998a94cae8c8e1011204726f6f74180bea44040a027531"],
  [33, "5200a2061308a6ae998a94cae8c8e1011204726f6f74180d"],
  [35, "a2061308a9ae998a94cae8c8e1011204726f6f74180d9a3f00"],
  [
    37,
    "08acae998a94cae8c8e10112035055541a062f312f76326b22017828003200380048d1f3e490ac8ec1f718500058006000680070007800800100",
  ],
  [
    38,
    "08aeae998a94cae8c8e10112035055541a062f312f76326422002801320038004800500058006000680070007800800100",
  ],
  [
    39,
    "08b0ae998a94cae8c8e1011204514745541a062f312f76326b22002800320038004800500058006000680070017800800100",
  ],
];

Deno.test("etcd 3.4's entries decode and encode back to the same bytes", () => {
  for (const [index, data] of ETCD_ENTRIES) {
    const bytes = hex(data);
    const p = decodeProposal(bytes);
    assert.equal(toHex(encodeProposal(p)), data, `entry ${index} (${p.kind})`);
    assert.equal(proposalIdOf(bytes), p.id, `entry ${index}'s ID`);
    assert.equal(p.id >> 48n, 0xe191n, "etcd's request IDs carry the member's low 16 bits");
    assert.equal(p.legacy, undefined);
  }
});

Deno.test("etcd 3.4's entries are the requests etcd meant", () => {
  const entry = (i: number) => decodeProposal(hex(ETCD_ENTRIES.find(([n]) => n === i)![1]));
  assert.deepEqual(entry(3), {
    kind: "memberAttrSet",
    id: 0xe191a25141465701n,
    request: {
      memberId: 0x4bf677ebc972e191n,
      name: "e1",
      clientURLs: ["http://127.0.250.1:2379"],
    },
  });
  assert.deepEqual(entry(4).request, { version: "3.4.0" });
  const put = entry(27);
  assert.equal(put.kind, "put");
  assert.deepEqual(put.kind === "put" && [put.request.key, put.request.value], [
    text("after"),
    text("auth"),
  ]);
  assert.deepEqual(put.auth, { username: "root", revision: 11 });
  assert.equal(entry(5).auth, undefined, "no user: no identity");
  const userAdd = entry(12);
  assert.deepEqual(userAdd.kind === "auth" && userAdd.request, {
    authUserAdd: { name: "root", password: "pw", options: { noPassword: false } },
  });
  const grant = entry(14);
  assert.deepEqual(grant.kind === "auth" && grant.request.authRoleGrantPermission, {
    name: "r1",
    perm: { permType: 2, key: text("a"), rangeEnd: text("b") },
  });
  const alarm = entry(33);
  assert.deepEqual(alarm.kind === "alarm" && alarm.request, {
    action: 0,
    memberID: 0n,
    alarm: 0,
  });
  const ttl = entry(37);
  assert.equal(ttl.kind, "v2");
  assert.deepEqual(
    ttl.kind === "v2" && [ttl.request.Path, ttl.request.Val, ttl.request.Expiration],
    ["/1/v2k", "x", 1796659667273333201n],
    "nanoseconds kept whole",
  );
  const qget = entry(39);
  assert.deepEqual(qget.kind === "v2" && [qget.request.Method, qget.request.Quorum], [
    "QGET",
    true,
  ]);
});

Deno.test("etcd 3.4's conf change contexts: Member JSON with the 64-bit ID exact", () => {
  const learner = decodeConfChange(hex(
    "08aaae998a94cae8c8e1011003189599f5a6d6feb49dd30122537b226964223a31353232303731303934313536" +
      "343638353436312c227065657255524c73223a5b22687474703a2f2f3132372e302e3235302e323a323338" +
      "30225d2c2269734c6561726e6572223a747275657d",
  ));
  assert.deepEqual(parseMemberJSON(new TextDecoder().decode(learner.context)), {
    member: {
      id: 15220710941564685461n,
      name: "",
      peerURLs: ["http://127.0.250.2:2380"],
      clientURLs: [],
      isLearner: true,
    },
    isPromote: false,
    legacy: false,
  });
  assert.equal(learner.nodeId, 15220710941564685461n);
});

Deno.test("proposals etcd-ts makes encode as etcd's: identity only with a user", () => {
  const id = 0xe191a25141465705n;
  const put = { kind: "put", id, request: { key: text("foo"), value: text("bar") } } as Proposal;
  assert.equal(toHex(encodeProposal(put)), "220a0a03666f6f1203626172a2060b0885ae998a94cae8c8e101");
  assert.equal(
    toHex(encodeProposal({ ...put, auth: NO_AUTH })),
    toHex(encodeProposal(put)),
    "auth off, no user: etcd writes the ID alone",
  );
  const withUser = { ...put, auth: { username: "ålice", revision: 2 ** 40 } } as Proposal;
  const back = decodeProposal(encodeProposal(withUser));
  assert.deepEqual([back.kind, back.id, back.auth], ["put", id, withUser.auth]);
  assert.deepEqual(encodeProposal(back), encodeProposal(withUser));
  const enable = { kind: "auth", id: 1n, request: { authEnable: {} } } as Proposal;
  assert.deepEqual(decodeProposal(encodeProposal(enable)), enable);
  const sync = {
    kind: "v2",
    id: 9n,
    request: etcdV2Request({ Method: "SYNC", Time: 1796659667273333201n }),
  } as Proposal;
  assert.deepEqual(decodeProposal(encodeProposal(sync)), sync);
  // A PUT of /0/version that is not exactly etcd's (a TTL) stays a v2 request.
  const odd = {
    kind: "v2",
    id: 9n,
    request: etcdV2Request({ Method: "PUT", Path: "/0/version", Val: "3.4.0", Expiration: 5n }),
  } as Proposal;
  assert.deepEqual(decodeProposal(encodeProposal(odd)), odd);
});

Deno.test("entries etcd-ts wrote before it used etcd's encoding still decode", async () => {
  await using dir = tempDir();
  await Deno.mkdir(`${dir.path}/wal`);
  const fixture = new URL("../integration/testdata/etcd-ts-0e6c92a/member/wal/", import.meta.url);
  for (const f of Deno.readDirSync(fixture)) {
    await Deno.copyFile(new URL(f.name, fixture), `${dir.path}/wal/${f.name}`);
  }
  const opened = await openWal(`${dir.path}/wal`, { index: 0, term: 0 });
  await opened.wal.close();
  const decoded = opened.entries
    .filter((e) => e.type === EntryType.Normal && e.data.length > 0)
    .map((e) => ({ index: e.index, p: decodeProposal(e.data), id: proposalIdOf(e.data) }));
  assert.ok(decoded.every(({ p }) => p.legacy === true));
  assert.ok(decoded.every(({ p, id }) => p.id === id));
  const kinds = new Set(decoded.map(({ p }) => p.kind));
  for (
    const k of ["memberAttrSet", "clusterVersionSet", "put", "txn", "leaseGrant", "auth", "v2"]
  ) {
    assert.ok(kinds.has(k as Proposal["kind"]), `an old ${k} entry`);
  }
  const publish = decoded.find(({ p }) => p.kind === "memberAttrSet")!.p;
  assert.deepEqual(publish.request, {
    memberId: 0xb012bf1b5039aa3an,
    name: "f1",
    clientURLs: ["http://127.0.250.9:2379"],
  });
  const bob = decoded.find(({ p }) => p.kind === "auth" && p.request.authUserAdd?.name === "bob")!;
  const add = bob.p.kind === "auth" ? bob.p.request.authUserAdd! : undefined;
  assert.match(add!.password, /^\$2[ab]\$10\$/, "the old entry's password is its hash");
  assert.deepEqual(bob.p.auth?.username, "root");
  const v2 = decoded.filter(({ p }) => p.kind === "v2").map(({ p }) =>
    p.kind === "v2" && [p.request.Method, p.request.Path]
  );
  assert.deepEqual(v2, [
    ["PUT", "/1/dir/a"],
    ["PUT", "/1/b"],
    ["PUT", "/1/c"],
    ["PUT", "/1/ttl"],
    ["DELETE", "/1/b"],
  ]);
  assert.throws(() => encodeProposal(bob.p), /never written/);
});
