// The size the proposer checks against --max-request-bytes is the length of the
// InternalRaftRequest etcd would marshal for the same request: checked here against such a
// message built byte by byte, across the varint boundaries of IDs, lengths and revisions.
import assert from "node:assert/strict";
import { messages } from "../../src/pb/mod.ts";
import { internalRaftRequestSize } from "../../src/server/request_size.ts";
import { decodeProposal, encodeProposal, type Proposal } from "../../src/server/proposal.ts";
import type { AuthRequest } from "../../src/auth/mod.ts";

function varint(v: bigint): number[] {
  const out: number[] = [];
  for (; v >= 0x80n; v >>= 7n) out.push(Number(v & 0x7fn) | 0x80);
  out.push(Number(v));
  return out;
}

function field(n: number, body: number[] | Uint8Array): Uint8Array {
  const head = [...varint(BigInt((n << 3) | 2)), ...varint(BigInt(body.length))];
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** etcd's InternalRaftRequest{Header: {ID, Username, AuthRevision}, Put: put}. */
function marshalled(id: bigint, put: Uint8Array, user = "", revision = 0): number {
  const header = [0x08, ...varint(id)];
  if (user) header.push(...field(2, new TextEncoder().encode(user)));
  if (revision) header.push(0x18, ...varint(BigInt(revision)));
  return field(100, header).length + field(4, put).length;
}

Deno.test("internalRaftRequestSize: a put's InternalRaftRequest, header and all", () => {
  const ids = [1n, 0x7fn, 0x80n, 0x7fff_0000_0000_0001n, 0xffff_ffff_ffff_ffffn];
  const lengths = [0, 100, 127, 16_380, 2_097_140, 2_097_160];
  for (const id of ids) {
    for (const n of lengths) {
      const request = { key: new Uint8Array([0x6b]), value: new Uint8Array(n) };
      const put = messages["etcdserverpb.PutRequest"].encode(request);
      for (const [user, revision] of [["", 0], ["root", 5], ["u".repeat(200), 300]] as const) {
        const auth = user ? { username: user, revision } : undefined;
        const p = { kind: "put", id, request, auth } as Proposal;
        assert.equal(
          internalRaftRequestSize(p, put.length),
          marshalled(id, put, user, revision),
          `id ${id}, value ${n}, user ${user.length}`,
        );
      }
    }
  }
});

Deno.test("internalRaftRequestSize: v2 and the member's own requests are not checked", () => {
  for (const kind of ["v2", "memberAttrSet", "clusterVersionSet"] as const) {
    const p = { kind, id: 1n, request: {} } as unknown as Proposal;
    assert.equal(internalRaftRequestSize(p, 10_000_000), undefined, kind);
  }
});

Deno.test("internalRaftRequestSize: auth requests as etcd's messages in their fields", () => {
  const hash = "$2a$10$" + "x".repeat(53);
  const key = new Uint8Array(300).fill(7);
  const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
  const m = messages;
  // [our request, etcd's message bytes, its InternalRaftRequest field]
  const cases: [AuthRequest, Uint8Array, number][] = [
    [{ op: "enable" }, new Uint8Array(), 1000],
    [{ op: "disable" }, new Uint8Array(), 1011],
    [
      { op: "userAdd", name: "alice", hashedPassword: hash, noPassword: false },
      m["etcdserverpb.AuthUserAddRequest"].encode({
        name: "alice",
        password: hash,
        options: { noPassword: false },
      }),
      1100,
    ],
    [
      { op: "userAdd", name: "bob", hashedPassword: "", noPassword: true },
      m["etcdserverpb.AuthUserAddRequest"].encode({
        name: "bob",
        password: "",
        options: { noPassword: true },
      }),
      1100,
    ],
    [
      { op: "userGrantRole", user: "alice", role: "r".repeat(200) },
      m["etcdserverpb.AuthUserGrantRoleRequest"].encode({ user: "alice", role: "r".repeat(200) }),
      1104,
    ],
    [
      {
        op: "roleGrantPermission",
        name: "r",
        permType: 2,
        key: b64(key),
        rangeEnd: b64(key.subarray(1)),
      },
      m["etcdserverpb.AuthRoleGrantPermissionRequest"].encode({
        name: "r",
        perm: { permType: 2, key, rangeEnd: key.subarray(1) },
      }),
      1203,
    ],
    [
      { op: "roleRevokePermission", role: "r", key: b64(key.subarray(2)), rangeEnd: "" },
      m["etcdserverpb.AuthRoleRevokePermissionRequest"].encode({
        role: "r",
        key: key.subarray(2),
        rangeEnd: new Uint8Array(),
      }),
      1204,
    ],
  ];
  for (const [request, etcdMessage, n] of cases) {
    const p = {
      kind: "auth",
      id: 0x1234_5678_9abc_def0n,
      request,
      auth: { username: "root", revision: 7 },
    } as Proposal;
    const header = [0x08, ...varint(p.id), ...field(2, new TextEncoder().encode("root")), 0x18, 7];
    assert.equal(
      internalRaftRequestSize(p, 0),
      field(100, header).length + field(n, etcdMessage).length,
      request.op,
    );
  }
});

Deno.test("internalRaftRequestSize: lease checkpoints in field 11, round trip through an entry", () => {
  const request = {
    checkpoints: [{ ID: 0x7fff_0000_0000_0001n, remainingTTL: 250 }, { ID: 5n, remainingTTL: 0 }],
  };
  const encoded = messages["etcdserverpb.LeaseCheckpointRequest"].encode(request);
  const p = { kind: "leaseCheckpoint", id: 9n, request } as Proposal;
  const header = [0x08, ...varint(9n)];
  assert.equal(
    internalRaftRequestSize(p, encoded.length),
    field(100, header).length + field(11, encoded).length,
  );
  assert.deepEqual(decodeProposal(encodeProposal(p)), p);
});
