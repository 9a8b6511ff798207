// v2 auth with --client-cert-auth, side by side with etcd 3.4: a request without an
// Authorization header is the user its certificate's CN names (root may manage auth, foo reaches
// its role's keys, a CN naming no user is a guest), and basic auth, when given, wins over the
// certificate. etcdctl v2 speaks HTTP/1.1; fetch negotiates HTTP/2, which takes the other path to
// the handlers.
import assert from "node:assert/strict";
import { type KeyPair, makeClientCert, makeClusterCerts } from "../helpers/certs.ts";
import { itest } from "../helpers/process.ts";
import { type Exchange, exchange, startPair, v2ctlBoth } from "../helpers/v2_compare.ts";

const BLOCK = "127.0.151";

const words = (s: string) => s.split(" ");

itest("v2 auth by client certificate CN and by basic auth over TLS, as etcd 3.4", async () => {
  const certs = await makeClusterCerts([`${BLOCK}.1`, `${BLOCK}.2`]);
  const [foo, nobody] = [await makeClientCert(certs, "foo"), await makeClientCert(certs, "nobody")];
  const root = certs.client; // CN=root
  const pair = await startPair(BLOCK, (i) => [
    "--client-cert-auth",
    `--trusted-ca-file=${certs.ca}`,
    `--cert-file=${certs.member(i).cert}`,
    `--key-file=${certs.member(i).key}`,
  ]);
  try {
    let ours = "", theirs = "";
    const as = async (who: string, pairOf: KeyPair, commands: string[]) => {
      const global = ["--ca-file", certs.ca, "--cert-file", pairOf.cert, "--key-file", pairOf.key];
      const got = await v2ctlBoth(pair, commands.map(words), { global });
      ours += `## as ${who}\n${got.ours}`;
      theirs += `## as ${who}\n${got.theirs}`;
    };
    await as("CN=root", root, [
      "user add root:rootpw",
      "user add foo:foopw",
      "role add r1",
      "role grant r1 --path /a/* --readwrite",
      "user grant foo --roles r1",
      "auth enable",
      "user list",
      "set /a/x 1",
    ]);
    await as("CN=foo", foo, [
      "user list",
      "set /a/y 2",
      "set /b 1",
      "get /a/x",
      "--username root:rootpw user list",
      "--username root:wrong get /a/x",
    ]);
    await as("CN=nobody", nobody, ["get /a/x", "user list", "auth disable"]);
    await as("CN=root", root, [
      "--username foo:foopw user list",
      "role revoke guest --path /* --readwrite",
    ]);
    await as("CN=nobody", nobody, ["get /a/x", "--username foo:foopw get /a/x"]);
    assert.equal(ours, theirs);
    assert.match(ours, /## as CN=foo\n\$ etcdctl user list\nInsufficient credentials\n/);
    assert.match(ours, /\$ etcdctl set \/b 1\nError: {2}110: The request requires user/);

    // The same identities over HTTP/2.
    const fetchAs = (p: KeyPair) => ({
      client: Deno.createHttpClient({
        caCerts: [Deno.readTextFileSync(certs.ca)],
        cert: Deno.readTextFileSync(p.cert),
        key: Deno.readTextFileSync(p.key),
      }),
    });
    const calls: [KeyPair, Exchange][] = [
      [root, { path: "/v2/auth/users/foo" }],
      [foo, { path: "/v2/auth/users/foo" }],
      [foo, { path: "/v2/auth/users/foo", auth: "root:rootpw" }],
      [nobody, { path: "/v2/keys/a/x" }],
      [foo, { path: "/v2/keys/a/x" }],
      [root, { method: "DELETE", path: "/v2/auth/enable" }],
      [nobody, { path: "/v2/keys/a/x" }],
    ];
    let h2ours = "", h2theirs = "";
    for (const [p, e] of calls) {
      const init = fetchAs(p);
      h2ours += await exchange(pair.ours, e, init);
      h2theirs += await exchange(pair.theirs, e, init);
      init.client.close();
    }
    assert.equal(h2ours, h2theirs);
    assert.match(h2ours, /^GET \/v2\/auth\/users\/foo \n200\n/);
  } finally {
    await pair.stop();
    await Deno.remove(certs.dir, { recursive: true });
  }
});
