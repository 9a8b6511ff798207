// The v2 auth API on a local store: bodies recorded with curl against etcd 3.4.23
// (--enable-v2), Go's nil-or-empty lists deciding whether an update changed anything, the
// client certificate's CN against basic auth, the key checks (recursive reads need a `*` grant;
// guests are checked without recursion), and the member keeping the records apart from the keys.
import assert from "node:assert/strict";
import type { PeerCertificate } from "node:tls";
import { Hono } from "hono";
import { setPeerCertificate } from "../../src/api/http/mod.ts";
import { addV2Routes, localV2 } from "../../src/api/v2/mod.ts";
import type { AuxBuckets } from "../../src/mvcc/mod.ts";
import { MemberV2Store } from "../../src/server/v2_store.ts";
import { V2PrefixView } from "../../src/server/v2.ts";

const BASE = "http://127.0.90.1:2379";

function setup() {
  const local = localV2();
  const app = new Hono();
  addV2Routes(app, local.deps);
  const call = async (
    method: string,
    path: string,
    opts: { body?: string; auth?: string; cn?: string; form?: boolean } = {},
  ) => {
    const headers: Record<string, string> = {
      "content-type": opts.form ? "application/x-www-form-urlencoded" : "application/json",
    };
    if (opts.auth) headers.authorization = `Basic ${btoa(opts.auth)}`;
    const req = new Request(`${BASE}${path}`, { method, headers, body: opts.body });
    if (opts.cn) setPeerCertificate(req, { subject: { CN: opts.cn } } as PeerCertificate);
    const res = await app.fetch(req);
    return { status: res.status, body: await res.text(), h: res.headers };
  };
  /** root (password rootpw) and u (upw), u with `roles`. */
  const addUsers = async (roles: string[] | null = null) => {
    await call("PUT", "/v2/auth/users/root", { body: '{"user":"root","password":"rootpw"}' });
    await call("PUT", "/v2/auth/users/u", {
      body: JSON.stringify({ user: "u", password: "upw", roles }),
    });
  };
  return { local, call, addUsers };
}

Deno.test("v2 auth: etcd 3.4's bodies and statuses for users and roles", async () => {
  const { local, call } = setup();
  try {
    let r = await call("GET", "/v2/auth/users/foo");
    assert.equal(r.status, 404);
    assert.equal(r.body, '{"message":"auth: User foo does not exist."}');
    assert.equal(r.h.get("x-etcd-cluster-id"), "0");
    assert.equal((await call("GET", "/v2/auth/users")).body, '{"users":null}\n');
    r = await call("PUT", "/v2/auth/users/foo", { body: '{"user":"foo","password":"pw"}' });
    assert.deepEqual([r.status, r.body], [201, '{"user":"foo","roles":null}\n']);
    // The stored roles are null; the merge makes them [], which Go's DeepEqual calls a change.
    r = await call("PUT", "/v2/auth/users/foo", { body: '{"user":"foo"}' });
    assert.deepEqual([r.status, r.body], [200, '{"user":"foo","roles":[]}\n']);
    r = await call("PUT", "/v2/auth/users/foo", { body: '{"user":"foo"}' });
    assert.equal(r.status, 400);
    assert.equal(
      r.body,
      '{"message":"auth: User not updated. Use grant/revoke/password to update the user."}',
    );
    r = await call("PUT", "/v2/auth/users/foo", { body: "{" });
    assert.deepEqual([r.status, r.body], [400, '{"message":"Invalid JSON in request body."}']);

    r = await call("PUT", "/v2/auth/roles/r1", { body: '{"role":"r1"}' });
    assert.equal(r.status, 201);
    assert.equal(r.body, '{"role":"r1","permissions":{"kv":{"read":null,"write":null}}}\n');
    const grant = '{"role":"r1","grant":{"kv":{"read":["/b","/a/*"],"write":[]}}}';
    r = await call("PUT", "/v2/auth/roles/r1", { body: grant });
    assert.equal(r.body, '{"role":"r1","permissions":{"kv":{"read":["/a/*","/b"],"write":[]}}}\n');
    r = await call("PUT", "/v2/auth/roles/r1", { body: grant });
    assert.deepEqual(
      [r.status, r.body],
      [409, '{"message":"auth: Granting duplicate read permission /b"}'],
    );
    const revokeNothing = '{"role":"r1","revoke":{"kv":{"write":["/zz"]}}}';
    r = await call("PUT", "/v2/auth/roles/r1", { body: revokeNothing });
    assert.equal(r.status, 400, "revoking what was never granted changes nothing");
    r = await call("GET", "/v2/auth/roles");
    assert.equal(
      r.body,
      '{"roles":[{"role":"r1","permissions":{"kv":{"read":["/a/*","/b"],"write":[]}}},' +
        '{"role":"root","permissions":{"kv":{"read":["/*"],"write":["/*"]}}}]}\n',
    );
    r = await call("DELETE", "/v2/auth/roles/root");
    assert.deepEqual(
      [r.status, r.body],
      [403, '{"message":"auth: Cannot modify role root: is root role."}'],
    );
    r = await call("GET", "/v2/keys/users/foo");
    assert.equal(r.status, 404, "the auth records are out of the keys' reach");
  } finally {
    local.close();
  }
});

Deno.test("v2 auth: the certificate's CN names the user unless basic auth is given", async () => {
  const { local, call, addUsers } = setup();
  try {
    await addUsers();
    let r = await call("PUT", "/v2/auth/enable");
    assert.deepEqual([r.status, r.body], [200, ""]);
    assert.equal((await call("GET", "/v2/auth/users")).status, 401);
    assert.equal((await call("GET", "/v2/auth/users", { cn: "root" })).status, 200);
    assert.equal((await call("GET", "/v2/auth/users", { cn: "u" })).status, 401);
    assert.equal(
      (await call("GET", "/v2/auth/users", { cn: "u", auth: "root:rootpw" })).status,
      200,
    );
    r = await call("GET", "/v2/auth/users", { cn: "root", auth: "u:upw" });
    assert.deepEqual([r.status, r.body], [401, '{"message":"Insufficient credentials"}']);
    assert.equal(r.h.get("x-etcd-cluster-id"), null, "refused before the handler sets it");
    assert.equal((await call("GET", "/v2/auth/users", { auth: "root:nope" })).status, 401);
    // A malformed Authorization header is no user, and no guest either.
    const bad = await call("GET", "/v2/keys/x", { auth: "no-colon" });
    assert.equal(bad.status, 401);
    assert.match(bad.body, /"errorCode":110,.*"cause":"Insufficient credentials","index":0/);
  } finally {
    local.close();
  }
});

Deno.test("v2 auth: recursive key access needs a * grant; guests are checked plainly", async () => {
  const { local, call, addUsers } = setup();
  try {
    await addUsers(["r"]);
    const grant = (role: string, read: string[]) =>
      call("PUT", `/v2/auth/roles/${role}`, {
        body: JSON.stringify({ role, grant: { kv: { read, write: [] } } }),
        auth: "root:rootpw",
      });
    await call("PUT", "/v2/auth/roles/r", { body: '{"role":"r"}' });
    await grant("r", ["/a/*", "/exact"]);
    await call("PUT", "/v2/auth/enable");
    const as = (path: string, auth?: string) => call("GET", path, { auth });
    assert.equal((await as("/v2/keys/a/x", "u:upw")).status, 404, "read allowed: no such key");
    assert.equal((await as("/v2/keys/exact", "u:upw")).status, 404);
    assert.equal((await as("/v2/keys/exact?recursive=true", "u:upw")).status, 401);
    assert.equal((await as("/v2/keys/a/x?recursive=true", "u:upw")).status, 404);
    assert.equal((await as("/v2/keys/a?recursive=true", "u:upw")).status, 401);
    const write = await call("PUT", "/v2/keys/a/x", { body: "value=1", auth: "u:upw", form: true });
    assert.equal(write.status, 401, "a read grant is no write grant");
    // The guest role etcd made on enable grants /*; narrowed to /g, a recursive read of /g
    // passes, because guests are checked without recursion.
    await call("PUT", "/v2/auth/roles/guest", {
      body: '{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}',
      auth: "root:rootpw",
    });
    await grant("guest", ["/g"]);
    assert.equal((await as("/v2/keys/g?recursive=true")).status, 404);
    assert.equal((await as("/v2/keys/a/x")).status, 401);
  } finally {
    local.close();
  }
});

/** Backend buckets in memory. */
function memoryAux(): AuxBuckets {
  const rows = new Map<string, Uint8Array>();
  const id = (b: string, k: string) => `${b}\u0000${k}`;
  return {
    get: (b, k) => rows.get(id(b, k)),
    put: (b, k, v) => void rows.set(id(b, k), v),
    delete: (b, k) => void rows.delete(id(b, k)),
    list: (b) =>
      [...rows].filter(([k]) => k.startsWith(`${b}\u0000`)).map(([k, v]) =>
        [k.slice(b.length + 1), v] as [string, Uint8Array]
      ).sort(([x], [y]) => x < y ? -1 : 1),
  };
}

Deno.test("a member keeps the v2 auth records under /2 of its v2 store, apart from the keys", () => {
  const aux = memoryAux();
  const v2 = new MemberV2Store(() => aux, () => 0);
  v2.apply({ method: "PUT", path: "/2/users/foo", value: '{"user":"foo"}' });
  v2.apply({ method: "PUT", path: "/1/k", value: "v" });
  const keys = new V2PrefixView(v2.store, "/1");
  const auth = new V2PrefixView(v2.store, "/2");
  assert.throws(() => keys.get("/users/foo"), /Key not found/);
  assert.throws(() => auth.get("/k"), /Key not found/);
  assert.equal(v2.store.index, 2, "one store, one index, as etcd's");
  assert.ok(aux.list("v2store").some(([k]) => k === "n/2/users/foo"));
  const reloaded = new MemberV2Store(() => aux, () => 0);
  assert.equal(
    new V2PrefixView(reloaded.store, "/2").get("/users/foo").node?.value,
    '{"user":"foo"}',
  );
  assert.deepEqual(new V2PrefixView(reloaded.store, "/1").get("/k").node, {
    key: "/k",
    value: "v",
    modifiedIndex: 2,
    createdIndex: 2,
  });
});
