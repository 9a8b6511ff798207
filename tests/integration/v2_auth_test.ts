// etcd's v2 auth API side by side with etcd 3.4 (--enable-v2): etcdctl v2's user, role and auth
// commands print the same, and /v2/auth, /v2/keys and /v2/members answer with the same statuses,
// headers and bodies, before and after auth is enabled (basic auth: wrong passwords, non-root
// users, missing users, the guest role). Then the auth records survive a restart of etcd-ts.
import assert from "node:assert/strict";
import { itest } from "../helpers/process.ts";
import { type Exchange, exchange, startPair, v2ctlBoth } from "../helpers/v2_compare.ts";

const BLOCK = "127.0.150";

const words = (s: string) => s.split(" ");
const LONG = "p".repeat(80);

// A session as an operator runs it: users and roles made, a role granted, auth enabled, then
// the commands that need root, the key checks of a user and of the guest role, and back.
const SESSION = [
  "user list",
  "role list",
  "user get foo",
  "user add root:rootpw",
  "user add foo:foopw",
  "user add foo:x",
  "user get root",
  "user list",
  "role add r1",
  "role add r1",
  "role add root",
  "role grant r1 --path /a/* --read",
  "role grant r1 --path /a/* --readwrite",
  "role grant r1 --path /b --write",
  "role get r1",
  "role revoke r1 --path /b --write",
  "role revoke r1 --path /zz --read",
  "role get guest",
  "user grant foo --roles r1",
  "user grant foo --roles r1",
  "user revoke foo --roles r9",
  "user get foo",
  "user grant",
  "role grant r1 --path /c",
  "auth enable",
  "auth enable",
  "user list",
  "--username root:rootpw auth enable",
  "--username root:rootpw user list",
  "--username root:bad user list",
  "--username foo:x user list",
  "--username nobody:x user list",
  "set /a/x 1",
  "--username foo:x set /a/x 1",
  "--username foo:x get /a/x",
  "--username foo:x ls -r /a",
  "--username root:rootpw role get guest",
  "--username root:rootpw role revoke guest --path /* --readwrite",
  "get /a/x",
  "--username root:rootpw get /a/x",
  "--username root:rootpw role remove root",
  "--username root:rootpw user remove root",
  "--username root:rootpw user revoke root --roles root",
  "--username root:rootpw user get root",
  "--username root:rootpw auth disable",
  "auth disable",
  "user remove foo",
  "user remove foo",
  "role remove r1",
  "role remove r1",
  "role list",
  "user list",
].map(words);

itest(
  "etcdctl v2 user, role and auth commands print what they print against etcd 3.4",
  async () => {
    const pair = await startPair(BLOCK);
    try {
      const got = await v2ctlBoth(pair, SESSION);
      assert.equal(got.ours, got.theirs);
      // The transcript is the real thing, not two identical failures.
      assert.match(got.ours, /\$ etcdctl auth enable\nAuthentication Enabled\n\[exit 0\]/);
      assert.match(got.ours, /--username foo:x set \/a\/x 1\nError: {2}110: The request requires/);
      assert.match(got.ours, /user get root\nUser: root\nRoles: {2}root\n\[exit 0\]/);
      // passwd reads the new password from stdin; the old one stops working.
      const passwd = await v2ctlBoth(pair, [words("user passwd root")], { stdin: "newpw\n" });
      assert.equal(passwd.ours, passwd.theirs);
      assert.match(passwd.ours, /Password updated/);
      const after = await v2ctlBoth(pair, [
        words("auth enable"),
        words("--username root:rootpw user list"),
        words("--username root:newpw user list"),
        words("--username root:newpw auth disable"),
      ]);
      assert.equal(after.ours, after.theirs);
      assert.match(after.ours, /root:rootpw user list\nInsufficient credentials\n\[exit 1\]/);
    } finally {
      await pair.stop();
    }
  },
);

const json = { "content-type": "application/json" };
const put = (path: string, body: string, auth?: string): Exchange => ({
  method: "PUT",
  path,
  body,
  auth,
  headers: json,
});
const user = (name: string, body: string, auth?: string) =>
  put(`/v2/auth/users/${name}`, body, auth);
const role = (name: string, body: string, auth?: string) =>
  put(`/v2/auth/roles/${name}`, body, auth);
const form = (path: string, body: string, auth?: string): Exchange => ({
  method: "PUT",
  path,
  body,
  auth,
  headers: { "content-type": "application/x-www-form-urlencoded" },
});

// Before auth: every shape the API answers with, the nil-or-empty lists of Go's JSON included.
const BEFORE: Exchange[] = [
  { path: "/v2/auth/users/foo" },
  { path: "/v2/auth/users" },
  { path: "/v2/auth/roles" },
  { path: "/v2/auth/roles/root" },
  { path: "/v2/auth/roles/guest" },
  { path: "/v2/auth/enable" },
  { method: "PUT", path: "/v2/auth/enable" },
  { method: "POST", path: "/v2/auth/enable" },
  { path: "/v2/auth/users/a/b" },
  { method: "POST", path: "/v2/auth/roles/a/b" },
  { method: "POST", path: "/v2/auth/users" },
  { method: "POST", path: "/v2/auth/users/foo" },
  { path: "/v2/auth/nothing" },
  { path: "/v2/auth/enable/x" },
  user("foo", '{"user":"foo"}'),
  user("foo", '{"user":"bar","password":"x"}'),
  user("foo", "not json"),
  user("foo", '{"user":"foo","password":7}'),
  user("foo", '{"user":"foo","password":"pw"}'),
  user("foo", '{"user":"foo"}'),
  user("foo", '{"user":"foo"}'),
  user("foo", '{"User":"foo","Password":"pw2"}'),
  user("bar", '{"user":"bar","password":"pw","roles":["r1"]}'),
  user("bar", '{"user":"bar","password":"pw","roles":["r1"]}'),
  { path: "/v2/auth/users/bar" },
  { path: "/v2/auth/users" },
  role("r1", '{"role":"r1"}'),
  role("r1", '{"role":"r1"}'),
  role("root", '{"role":"root"}'),
  role("r1", '{"role":"r1","grant":{"kv":{"read":["/a/*"],"write":[]}}}'),
  role("r1", '{"role":"r1","grant":{"kv":{"read":["/a/*"]}}}'),
  role("r1", '{"role":"r1","revoke":{"kv":{"read":["/zz"]}}}'),
  role("r1", '{"role":"r1","grant":{"kv":{"write":["/b","/a/*"]}}}'),
  role("r2", '{"role":"r2","permissions":{"kv":{"read":["/x"]}},"grant":{"kv":{"read":["/y"]}}}'),
  role("r3", '{"role":"r3","permissions":{"kv":{"read":["/x","/x"]}}}'),
  role("r3", '{"role":"r3","revoke":{"kv":{"read":["/x"]}}}'),
  role("nope", '{"role":"nope","grant":{"kv":{"read":["/y"]}}}'),
  { path: "/v2/auth/users/bar" },
  user("foo", '{"user":"foo","grant":["r1"],"roles":["x"]}'),
  user("foo", '{"user":"foo","grant":["r1"]}'),
  user("foo", '{"user":"foo","grant":["r1"]}'),
  user("foo", '{"user":"foo","revoke":["r9"]}'),
  user("foo", '{"user":"foo","grant":["r3","r2"]}'),
  user("nobody", '{"user":"nobody","grant":["r1"]}'),
  { method: "DELETE", path: "/v2/auth/users/nobody" },
  { method: "DELETE", path: "/v2/auth/roles/nobody" },
  { method: "DELETE", path: "/v2/auth/roles/root" },
  { method: "DELETE", path: "/v2/auth/roles/r3" },
  { path: "/v2/auth/roles" },
  { path: "/v2/auth/users" },
  { path: "/v2/auth/users/foo" },
  { path: "/v2/keys/2/users" },
  user("root", '{"user":"root","password":"rootpw"}'),
  // bcrypt reads 72 bytes of a password; etcd 3.4 takes longer ones.
  user("long", `{"user":"long","password":"${LONG}","roles":["root"]}`),
  { path: "/v2/auth/users/root" },
  { method: "PUT", path: "/v2/auth/enable" },
];

// With auth on: who may do what, and what the refusals look like.
const AFTER: Exchange[] = [
  { path: "/v2/auth/enable" },
  { method: "PUT", path: "/v2/auth/enable" },
  { path: "/v2/auth/users" },
  { path: "/v2/auth/users", auth: "root:wrong" },
  { path: "/v2/auth/users", auth: "foo:pw2" },
  { path: "/v2/auth/users", auth: "ghost:pw" },
  { path: "/v2/auth/users", auth: `long:${LONG}` },
  { path: "/v2/auth/users", headers: { authorization: `basic ${btoa("root:rootpw")}` } },
  // Go's base64 wants the padding that atob would forgive.
  { path: "/v2/auth/users", headers: { authorization: "Basic cm9vdDpyb290cHc" } },
  { path: "/v2/auth/users/foo", auth: "root:rootpw" },
  { method: "PUT", path: "/v2/auth/enable", auth: "root:rootpw" },
  { path: "/v2/auth/roles/guest", auth: "root:rootpw" },
  { path: "/v2/keys/a/x" },
  form("/v2/keys/a/x", "value=1"),
  form("/v2/keys/a/x", "value=2", "foo:pw2"),
  form("/v2/keys/b", "value=3", "foo:pw2"),
  { path: "/v2/keys/a/x", auth: "foo:pw2" },
  { path: "/v2/keys/a/x", auth: "foo:wrong" },
  { path: "/v2/keys/a?recursive=true", auth: "foo:pw2" },
  { path: "/v2/keys/a/x?wait=true&waitIndex=1", auth: "ghost:x" },
  { method: "POST", path: "/v2/members", body: '{"peerURLs":["http://127.0.150.9:2380"]}' },
  { method: "DELETE", path: "/v2/members/1234", auth: "foo:pw2" },
  { method: "DELETE", path: "/v2/auth/users/root", auth: "root:rootpw" },
  role("guest", '{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}', "root:rootpw"),
  { path: "/v2/keys/a/x" },
  { path: "/v2/keys/a/x", auth: "root:rootpw" },
  { method: "DELETE", path: "/v2/auth/enable", auth: "foo:pw2" },
  { method: "DELETE", path: "/v2/auth/enable", auth: "root:rootpw" },
  { method: "DELETE", path: "/v2/auth/enable" },
  { method: "DELETE", path: "/v2/auth/users/foo" },
  { method: "DELETE", path: "/v2/auth/users/root" },
  { path: "/v2/auth/users" },
];

itest(
  "/v2/auth, /v2/keys and /v2/members answer as etcd 3.4's, before and after auth is on",
  async () => {
    const pair = await startPair(BLOCK);
    try {
      let ours = "", theirs = "";
      for (const e of [...BEFORE, ...AFTER]) {
        ours += await exchange(pair.ours, e);
        theirs += await exchange(pair.theirs, e);
      }
      assert.equal(ours, theirs);
      assert.match(
        ours,
        /GET \/v2\/auth\/users\/foo \n404\n.*\n.*\n\{"message":"auth: User foo does not exist\."\}/,
      );
      assert.match(ours, /"Insufficient credentials"/);

      // The records are the member's: etcd-ts restarted answers the same.
      const state = [{ path: "/v2/auth/users" }, { path: "/v2/auth/roles" }, {
        path: "/v2/auth/enable",
      }];
      const before = await Promise.all(state.map((e) => exchange(pair.ours, e)));
      assert.match(before[0], /"user":"bar"/);
      await pair.restartOurs();
      assert.deepEqual(await Promise.all(state.map((e) => exchange(pair.ours, e))), before);
    } finally {
      await pair.stop();
    }
  },
);
