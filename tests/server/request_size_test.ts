// The size the proposer checks against --max-request-bytes is the length of the
// InternalRaftRequest etcd would marshal for the same request: checked here against such a
// message built byte by byte, across the varint boundaries of IDs, lengths and revisions.
import assert from "node:assert/strict";
import { messages } from "../../src/pb/mod.ts";
import { internalRaftRequestSize } from "../../src/server/request_size.ts";
import type { Proposal } from "../../src/server/proposal.ts";

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
