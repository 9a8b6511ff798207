// Request checks: what each KV request needs, watches, admin calls, and the re-check at apply.
import assert from "node:assert/strict";
import {
  applyAuth,
  type AuthRequest,
  AuthStore,
  checkAdmin,
  checkPassword,
  checkPut,
  checkTxn,
  hashPassword,
  NO_AUTH,
  toBase64,
  watchPermitted,
} from "../../src/auth/mod.ts";
import { authorizeApplied } from "../../src/server/apply/auth.ts";
import { checkMaintenanceAdmin } from "../../src/api/services/maintenance.ts";
import { as, errorOf, newStore } from "../helpers/auth.ts";

const b = (s: string) => new TextEncoder().encode(s);
const noLeases = () => [];

const TOKEN = "abcdefghijklmnop.1";

/** Auth enabled; alice may read "foo" and read-write "pre/"; her token is "abcdefghijklmnop.1". */
function store(): AuthStore {
  const s = newStore();
  const root = () => as(s, "root");
  const apply = (req: AuthRequest) => applyAuth(s, req, root(), 1);
  apply({ op: "userAdd", name: "root", hashedPassword: "h", noPassword: false });
  apply({ op: "userGrantRole", user: "root", role: "root" });
  apply({ op: "enable" });
  apply({ op: "userAdd", name: "alice", hashedPassword: "h", noPassword: false });
  apply({ op: "roleAdd", name: "r" });
  const grant = (permType: number, key: string, end = "") =>
    apply({
      op: "roleGrantPermission",
      name: "r",
      permType,
      key: toBase64(b(key)),
      rangeEnd: toBase64(b(end)),
    });
  grant(0, "foo");
  grant(2, "pre/", "pre0");
  apply({ op: "userGrantRole", user: "alice", role: "r" });
  s.tokens.issue({ prefix: "abcdefghijklmnop", index: 1, username: "alice", revision: 0 });
  return s;
}

const denied = (fn: () => void) => errorOf(() => (fn(), assert.fail("permitted")));

Deno.test("a put needs write; with prev_kv read too; with a lease, write on its keys", () => {
  const s = store();
  const alice = as(s, "alice");
  checkPut(s, alice, { key: b("pre/a"), prevKv: true }, noLeases);
  assert.equal(
    denied(() => checkPut(s, alice, { key: b("foo") }, noLeases)),
    "etcdserver: permission denied",
  );
  const leaseOn = (k: string) => () => [b(k)];
  checkPut(s, alice, { key: b("pre/a"), lease: 5n }, leaseOn("pre/b"));
  assert.equal(
    denied(() => checkPut(s, alice, { key: b("pre/a"), lease: 5n }, leaseOn("zzz"))),
    "etcdserver: permission denied",
  );
});

Deno.test("a txn needs read on its compares and each operation's permission, nested too", () => {
  const s = store();
  const alice = as(s, "alice");
  const put = (k: string) => ({ requestPut: { key: b(k) } });
  checkTxn(s, alice, { compare: [{ key: b("foo") }], success: [put("pre/x")] }, noLeases);
  assert.equal(
    denied(() => checkTxn(s, alice, { compare: [{ key: b("bar") }] }, noLeases)),
    "etcdserver: permission denied",
  );
  assert.equal(
    denied(() =>
      checkTxn(s, alice, {
        failure: [{ requestTxn: { success: [{ requestDeleteRange: { key: b("foo") } }] } }],
      }, noLeases)
    ),
    "etcdserver: permission denied",
  );
  assert.equal(
    denied(() => checkTxn(s, NO_AUTH, { success: [put("pre/x")] }, noLeases)),
    "etcdserver: user name is empty",
  );
});

Deno.test("at apply: a write checked before an auth change is refused; own proposals pass", () => {
  const s = store();
  const checked = as(s, "alice");
  const body = { key: b("pre/a"), value: b("v") };
  authorizeApplied(s, { kind: "put", id: 0n, request: body, auth: checked }, noLeases);
  applyAuth(s, { op: "roleAdd", name: "x" }, as(s, "root"), 2);
  assert.equal(
    denied(() =>
      authorizeApplied(s, { kind: "put", id: 0n, request: body, auth: checked }, noLeases)
    ),
    "etcdserver: revision of auth store is old",
  );
  // An entry without a user is checked as etcd checks it: the leader revokes expired leases
  // as root (etcd's WithRoot); an entry etcd-ts wrote before carried no user for them.
  const revoke = { kind: "leaseRevoke" as const, id: 0n, request: { ID: 5n } };
  for (const auth of [undefined, NO_AUTH]) {
    assert.equal(
      denied(() => authorizeApplied(s, { ...revoke, auth }, () => [b("k")])),
      "etcdserver: user name is empty",
    );
  }
  authorizeApplied(s, { ...revoke, auth: as(s, "root") }, () => [b("secret")]);
  authorizeApplied(s, { ...revoke, legacy: true }, () => [b("secret")]);
});

Deno.test("watches need read; a bad token or no user refuses them too", () => {
  const s = store();
  const call = (token?: string) => ({
    metadata: (token ? { token } : {}) as Record<string, string>,
    peerCertificate: () => undefined,
  });
  assert.equal(watchPermitted(s, call(TOKEN), { key: b("pre/"), rangeEnd: b("pre0") }), true);
  assert.equal(watchPermitted(s, call(TOKEN), { key: b("bar") }), false);
  assert.equal(watchPermitted(s, call("bad.1"), { key: b("foo") }), false);
  assert.equal(watchPermitted(s, call(), { key: b("foo") }), false);
});

Deno.test("guarded Maintenance calls return the auth store's own words, code Unknown", () => {
  const s = store();
  const call = (md: Record<string, string>, cn?: string) => ({
    metadata: md,
    peerCertificate: () => cn ? { subject: { CN: cn } } : undefined,
  });
  const err = (md: Record<string, string>, cn?: string) => {
    try {
      checkMaintenanceAdmin({ checkAdmin: (c) => checkAdmin(s, c) }, call(md, cn));
      return "ok";
    } catch (e) {
      return `${(e as { code: number }).code} ${(e as Error).message}`;
    }
  };
  assert.equal(err({ token: TOKEN }), "2 auth: permission denied");
  assert.equal(err({}), "2 auth: user name is empty");
  assert.equal(err({ authorization: "x.1" }), "2 auth: invalid auth token");
  assert.equal(err({}, "root"), "ok"); // --client-cert-auth: the CN is the user
});

Deno.test("passwords: bcrypt hashes checked at the revision they were read", async () => {
  const s = newStore();
  const hash = await hashPassword("pw", 4);
  assert.match(hash, /^\$2[ab]\$04\$/);
  applyAuth(
    s,
    { op: "userAdd", name: "root", hashedPassword: hash, noPassword: false },
    NO_AUTH,
    1,
  );
  applyAuth(s, { op: "userGrantRole", user: "root", role: "root" }, NO_AUTH, 2);
  await assert.rejects(checkPassword(s, "root", "pw"), /authentication is not enabled/);
  applyAuth(s, { op: "enable" }, NO_AUTH, 3);
  assert.equal(await checkPassword(s, "root", "pw"), s.revision);
  await assert.rejects(checkPassword(s, "root", "bad"), /authentication failed/);
  await assert.rejects(checkPassword(s, "nobody", "pw"), /authentication failed/);
});

Deno.test("a --bcrypt-cost below bcrypt's minimum hashes at Go's default cost, as etcd does", async () => {
  assert.match(await hashPassword("pw", 3), /^\$2[ab]\$10\$/);
});
