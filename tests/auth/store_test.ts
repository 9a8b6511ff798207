// The auth store as a state machine of applied auth entries, with etcd 3.4's rules and errors.
import assert from "node:assert/strict";
import { applyAuth, type AuthRequest, AuthStore, NO_AUTH, toBase64 } from "../../src/auth/mod.ts";
import { as, errorOf, memoryAux, newStore } from "../helpers/auth.ts";

const b = (s: string) => new TextEncoder().encode(s);
let index = 100;
const apply = (store: AuthStore, req: AuthRequest, who = NO_AUTH) =>
  applyAuth(store, req, who, index++);

/** A store with root (root role) and alice, auth enabled. */
function enabledStore(): AuthStore {
  const store = newStore();
  apply(store, { op: "userAdd", name: "root", hashedPassword: "h", noPassword: false });
  apply(store, { op: "userGrantRole", user: "root", role: "root" });
  apply(store, { op: "userAdd", name: "alice", hashedPassword: "h", noPassword: false });
  apply(store, { op: "enable" });
  return store;
}

Deno.test("auth enable needs user root with the root role (which need not exist as a role)", () => {
  const store = newStore();
  assert.equal(
    errorOf(() => apply(store, { op: "enable" })),
    "etcdserver: root user does not exist",
  );
  apply(store, { op: "userAdd", name: "root", hashedPassword: "h", noPassword: false });
  assert.equal(
    errorOf(() => apply(store, { op: "enable" })),
    "etcdserver: root user does not have root role",
  );
  apply(store, { op: "userGrantRole", user: "root", role: "root" });
  const rev = store.revision;
  apply(store, { op: "enable" });
  assert.equal(store.enabled, true);
  assert.equal(store.revision, rev, "enable keeps the revision");
  apply(store, { op: "enable" }, as(store, "root")); // again: a no-op
  apply(store, { op: "disable" }, as(store, "root"));
  assert.equal(store.enabled, false);
  assert.equal(store.revision, rev + 1, "disable moves the revision");
});

Deno.test("a new store is at revision 1; each change moves it, a duplicate grant does not", () => {
  const store = newStore();
  assert.equal(store.revision, 1);
  apply(store, { op: "userAdd", name: "u", hashedPassword: "h", noPassword: false });
  apply(store, { op: "roleAdd", name: "r" });
  apply(store, { op: "userGrantRole", user: "u", role: "r" });
  assert.equal(store.revision, 4);
  apply(store, { op: "userGrantRole", user: "u", role: "r" });
  assert.equal(store.revision, 4);
});

Deno.test("users and roles: names, duplicates, missing ones", () => {
  const store = newStore();
  const err = (req: AuthRequest) => errorOf(() => apply(store, req));
  assert.equal(
    err({ op: "userAdd", name: "", hashedPassword: "", noPassword: false }),
    "etcdserver: user name is empty",
  );
  apply(store, { op: "userAdd", name: "u", hashedPassword: "h", noPassword: false });
  assert.equal(
    err({ op: "userAdd", name: "u", hashedPassword: "", noPassword: false }),
    "etcdserver: user name already exists",
  );
  assert.equal(err({ op: "roleAdd", name: "" }), "etcdserver: role name is empty");
  apply(store, { op: "roleAdd", name: "r" });
  assert.equal(err({ op: "roleAdd", name: "r" }), "etcdserver: role name already exists");
  assert.equal(
    err({ op: "userGrantRole", user: "x", role: "r" }),
    "etcdserver: user name not found",
  );
  assert.equal(
    err({ op: "userGrantRole", user: "u", role: "x" }),
    "etcdserver: role name not found",
  );
  assert.equal(
    err({ op: "userRevokeRole", name: "u", role: "r" }),
    "etcdserver: role is not granted to the user",
  );
  assert.equal(err({ op: "userDelete", name: "x" }), "etcdserver: user name not found");
  assert.equal(err({ op: "roleDelete", role: "x" }), "etcdserver: role name not found");
  assert.equal(
    err({ op: "userChangePassword", name: "x", hashedPassword: "h" }),
    "etcdserver: user name not found",
  );
  apply(store, { op: "userAdd", name: "a", hashedPassword: "h", noPassword: false });
  assert.deepEqual(store.userNames(), ["a", "u"]);
  apply(store, { op: "roleAdd", name: "q" });
  apply(store, { op: "userGrantRole", user: "u", role: "r" });
  apply(store, { op: "userGrantRole", user: "u", role: "q" });
  assert.deepEqual(store.user("u")!.roles, ["q", "r"]);
  // Deleting a role takes it from its users.
  apply(store, { op: "roleDelete", role: "r" });
  assert.deepEqual(store.user("u")!.roles, ["q"]);
  assert.deepEqual(store.roleNames(), ["q"]);
});

Deno.test("root's user, role and grant are protected while auth is enabled", () => {
  const store = enabledStore();
  const root = as(store, "root");
  const err = (req: AuthRequest) => errorOf(() => apply(store, req, root));
  assert.equal(err({ op: "userDelete", name: "root" }), "etcdserver: invalid auth management");
  assert.equal(
    err({ op: "userRevokeRole", name: "root", role: "root" }),
    "etcdserver: invalid auth management",
  );
  apply(store, { op: "roleAdd", name: "root" }, root);
  assert.equal(err({ op: "roleDelete", role: "root" }), "etcdserver: invalid auth management");
  apply(store, { op: "disable" }, root);
  apply(store, { op: "roleDelete", role: "root" });
  apply(store, { op: "userDelete", name: "root" });
  assert.deepEqual(store.userNames(), ["alice"]);
});

Deno.test("with auth enabled, management is root's alone", () => {
  const store = enabledStore();
  const req: AuthRequest = { op: "roleAdd", name: "r" };
  assert.equal(errorOf(() => apply(store, req)), "etcdserver: user name is empty");
  assert.equal(
    errorOf(() => apply(store, req, as(store, "alice"))),
    "etcdserver: permission denied",
  );
  assert.equal(
    errorOf(() => apply(store, req, as(store, "ghost"))),
    "etcdserver: user name not found",
  );
  apply(store, req, as(store, "root"));
  assert.deepEqual(store.roleNames(), ["r"]);
});

Deno.test("granting a range again replaces its type; revoking needs the exact range", () => {
  const store = newStore();
  apply(store, { op: "roleAdd", name: "r" });
  const grant = (permType: number, key: string, rangeEnd = "") =>
    apply(store, {
      op: "roleGrantPermission",
      name: "r",
      permType,
      key: toBase64(b(key)),
      rangeEnd: toBase64(b(rangeEnd)),
    });
  grant(0, "foo");
  grant(1, "foo");
  grant(2, "a", "c");
  grant(0, "pre/", "pre0");
  const perms = store.role("r")!.keyPermission.map((p) => [
    p.permType,
    new TextDecoder().decode(p.key),
    new TextDecoder().decode(p.rangeEnd),
  ]);
  assert.deepEqual(perms, [[2, "a", "c"], [1, "foo", ""], [0, "pre/", "pre0"]]);
  const revoke = (key: string, rangeEnd = "") =>
    apply(store, {
      op: "roleRevokePermission",
      role: "r",
      key: toBase64(b(key)),
      rangeEnd: toBase64(b(rangeEnd)),
    });
  assert.equal(errorOf(() => revoke("a")), "etcdserver: permission is not granted to the role");
  revoke("a", "c");
  assert.equal(store.role("r")!.keyPermission.length, 2);
  assert.equal(
    errorOf(() =>
      apply(store, { op: "roleGrantPermission", name: "x", permType: 0, key: "", rangeEnd: "" })
    ),
    "etcdserver: role name not found",
  );
});

Deno.test("authenticate assigns <prefix>.<index> on every member, or says the check is stale", () => {
  const store = enabledStore();
  const prefix = "abcdefghijklmnop";
  const auth = (name: string, revision = store.revision) =>
    applyAuth(store, { op: "authenticate", name, simpleToken: prefix, revision }, undefined, 42);
  assert.deepEqual(auth("alice"), { token: `${prefix}.42` });
  assert.equal(store.tokens.info(`${prefix}.42`)?.username, "alice");
  assert.deepEqual(auth("alice", store.revision - 1), { stale: true });
  assert.equal(
    errorOf(() => auth("ghost")),
    "etcdserver: authentication failed, invalid user ID or password",
  );
  apply(
    store,
    { op: "userAdd", name: "np", hashedPassword: "", noPassword: true },
    as(store, "root"),
  );
  assert.equal(
    errorOf(() => auth("np")),
    "etcdserver: authentication failed, invalid user ID or password",
  );
  // Deleting the user or changing its password ends its tokens.
  apply(
    store,
    { op: "userChangePassword", name: "alice", hashedPassword: "h2" },
    as(store, "root"),
  );
  assert.equal(store.tokens.info(`${prefix}.42`)?.username, undefined);
  apply(store, { op: "disable" }, as(store, "root"));
  assert.equal(errorOf(() => auth("alice")), "etcdserver: authentication is not enabled");
});

Deno.test("identities: a token, else a certificate's CN; a bad token is refused", () => {
  const store = enabledStore();
  const token = store.tokens.issue({
    prefix: "abcdefghijklmnop",
    index: 1,
    username: "alice",
    revision: store.revision,
  });
  assert.deepEqual(store.authInfo(token, () => "bob"), { username: "alice", revision: 4 });
  assert.equal(errorOf(() => store.authInfo("nope.1", () => "")), "etcdserver: invalid auth token");
  assert.deepEqual(store.authInfo(undefined, () => "bob"), { username: "bob", revision: 4 });
  assert.deepEqual(store.authInfo(undefined, () => undefined), NO_AUTH);
});

Deno.test("permission checks: no user, old revision, unknown user, root, granted ranges", () => {
  const store = enabledStore();
  const root = as(store, "root");
  apply(store, { op: "roleAdd", name: "r" }, root);
  apply(store, {
    op: "roleGrantPermission",
    name: "r",
    permType: 0,
    key: toBase64(b("foo")),
    rangeEnd: "",
  }, root);
  apply(store, { op: "userGrantRole", user: "alice", role: "r" }, root);
  const alice = as(store, "alice");
  const check = (ai = alice, kind: "read" | "write" = "read", key = "foo") =>
    errorOf(() => {
      store.checkKeys(ai, b(key), new Uint8Array(), kind);
      throw new Error("ok");
    });
  assert.equal(check(), "ok");
  assert.equal(check(alice, "write"), "etcdserver: permission denied");
  assert.equal(check(alice, "read", "bar"), "etcdserver: permission denied");
  assert.equal(check(NO_AUTH), "etcdserver: user name is empty");
  assert.equal(check(as(store, "ghost")), "etcdserver: permission denied");
  assert.equal(check(as(store, "root"), "write", "anything"), "ok");
  apply(store, { op: "roleAdd", name: "other" }, root);
  assert.equal(check(alice), "etcdserver: revision of auth store is old");
});

Deno.test("the store reads back what it persisted", () => {
  const aux = memoryAux();
  const store = newStore(aux);
  apply(store, { op: "userAdd", name: "root", hashedPassword: "hash", noPassword: false });
  apply(store, { op: "userGrantRole", user: "root", role: "root" });
  apply(store, { op: "roleAdd", name: "r" });
  apply(store, {
    op: "roleGrantPermission",
    name: "r",
    permType: 2,
    key: toBase64(b("k")),
    rangeEnd: toBase64(new Uint8Array([0])),
  });
  apply(store, { op: "enable" });
  const again = newStore(aux);
  assert.equal(again.enabled, true);
  assert.equal(again.revision, store.revision);
  assert.deepEqual(again.user("root"), store.user("root"));
  assert.deepEqual(again.role("r"), store.role("r"));
});
