// Auth on etcd-ts members, driven by etcdctl 3.4 and the JSON gateway, compared with what
// etcd 3.4.23 answers. Address block 127.0.17.x.
import assert from "node:assert/strict";
import { type Proc, singleMemberFlags, startReady, stop } from "../helpers/process.ts";
import { itest } from "../helpers/process.ts";
import { makeCluster } from "../helpers/cluster.ts";
import { tempDir } from "../helpers/tmp.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl, etcdctlWith, spawnEtcdctl } from "../helpers/etcdctl.ts";
import { issueCerts } from "../helpers/certs.ts";
import { sleep } from "../helpers/wait.ts";

const IP = "127.0.17.1";
const EP = `http://${IP}:2379`;

/** etcdctl's output as the transcript records it: stdout, stderr less JSON warnings, code. */
async function ctl(args: string[], stdin?: string): Promise<string> {
  const r = await etcdctlWith({ stdin: stdin ?? "" })(EP, ...args);
  const stderr = r.stderr.split("\n").filter((l) => l !== "" && !l.startsWith('{"level"'));
  return r.stdout + stderr.map((l) => l + "\n").join("") + `[rc=${r.code}]\n`;
}

const as = (user: string, ...args: string[]) => ctl(["--user", user, ...args]);

async function member(dir: string, extra: string[] = []): Promise<Proc> {
  return await startReady([...singleMemberFlags("s1", IP, `${dir}/data`), ...extra]);
}

/** Root with its role, auth enabled, and alice with read-write on the prefix "pre/". */
async function setUpUsers(): Promise<void> {
  for (
    const args of [
      ["user", "add", "root:rootpw", "--interactive=false"],
      ["user", "grant-role", "root", "root"],
      ["user", "add", "alice:apw", "--interactive=false"],
      ["role", "add", "pre"],
      ["role", "grant-permission", "pre", "readwrite", "--prefix=true", "pre/"],
      ["user", "grant-role", "alice", "pre"],
      ["auth", "enable"],
    ]
  ) assert.match(await ctl(args), /\[rc=0\]\n$/, args.join(" "));
}

itest(
  "etcdctl's user, role and auth commands print what they print against etcd 3.4.23",
  async () => {
    await assertPortsFree(IP, [2379, 2380]);
    const transcript = await Deno.readTextFile(
      new URL("./testdata/auth_etcdctl_3.4.23.txt", import.meta.url),
    );
    const steps = transcript.split("\n").filter((l) => !l.startsWith("#")).join("\n")
      .split(/^\$ /m).slice(1);
    const m = await member(tempDir().path);
    try {
      for (const step of steps) {
        const newline = step.indexOf("\n");
        const command = step.slice(0, newline);
        const [args, stdin] = command.split(" <<< ");
        const got = await ctl(args.split(" "), stdin?.replaceAll("\\n", "\n"));
        assert.equal(got, step.slice(newline + 1), `etcdctl ${command}`);
      }
    } finally {
      await stop(m);
    }
  },
);

itest("watches, lease revocation, membership and maintenance calls are guarded", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  const m = await member(tempDir().path);
  try {
    await setUpUsers();
    // A watch on a key alice may not read is created and canceled at once.
    assert.equal(
      await as("alice:apw", "watch", "secret"),
      "watch was canceled (rpc error: code = PermissionDenied desc = etcdserver: permission " +
        "denied)\nError: watch is canceled by the server\n[rc=5]\n",
    );
    // The watch starts at the put's revision, so it gets the event however late it connects.
    const put = await as("root:rootpw", "put", "pre/w", "v", "-w", "json");
    const rev = JSON.parse(put.split("\n")[0]).header.revision;
    const watch = spawnEtcdctl(EP, [
      "--user",
      "alice:apw",
      "watch",
      "pre/",
      "--prefix",
      `--rev=${rev}`,
    ]);
    try {
      await watch.waitFor((l) => l === "v");
      assert.deepEqual(watch.stdout, ["PUT", "pre/w", "v"]);
    } finally {
      watch.kill();
      await watch.status;
    }

    // Revoking a lease deletes its keys: alice may not revoke one holding root's key.
    const lease = (await as("root:rootpw", "lease", "grant", "100")).split(" ")[1];
    await as("root:rootpw", "put", "secret", "s", `--lease=${lease}`);
    assert.equal(
      await as("alice:apw", "lease", "revoke", lease),
      "Error: failed to revoke lease (etcdserver: permission denied)\n[rc=1]\n",
    );
    assert.equal(
      await as("alice:apw", "put", "pre/l", "v", `--lease=${lease}`),
      "Error: etcdserver: permission denied\n[rc=1]\n",
    );
    const own = (await as("alice:apw", "lease", "grant", "100")).split(" ")[1];
    assert.equal(await as("alice:apw", "put", "pre/l", "v", `--lease=${own}`), "OK\n[rc=0]\n");
    assert.equal(
      await as("alice:apw", "lease", "revoke", own),
      `lease ${own} revoked\n[rc=0]\n`,
    );

    // Membership changes are root's; listing members is anyone's.
    assert.equal(
      await as("alice:apw", "member", "add", "x", "--peer-urls=http://127.0.17.9:2380"),
      "Error: etcdserver: permission denied\n[rc=1]\n",
    );
    assert.match(await as("alice:apw", "member", "list"), /, started, s1, .*\[rc=0\]\n$/s);
    // Guarded Maintenance calls answer with the auth store's own words.
    assert.equal(
      await as("alice:apw", "defrag"),
      `Failed to defragment etcd member[${EP}] (rpc error: code = Unknown desc = auth: ` +
        "permission denied)\n[rc=1]\n",
    );
    assert.equal(
      await ctl(["endpoint", "hashkv"]),
      `Failed to get the hash of endpoint ${EP} (rpc error: code = Unknown desc = auth: user ` +
        "name is empty)\nError: rpc error: code = Unknown desc = auth: user name is empty\n" +
        "[rc=1]\n",
    );
    assert.match(await as("root:rootpw", "endpoint", "hashkv"), /\[rc=0\]\n$/);
    assert.match(await as("alice:apw", "endpoint", "health"), /is healthy: /);
  } finally {
    await stop(m);
  }
});

itest(
  "gateway: tokens in Authorization, invalid or idle past --auth-token-ttl refused",
  async () => {
    await assertPortsFree(IP, [2379, 2380]);
    const m = await member(tempDir().path, ["--auth-token-ttl", "2"]);
    try {
      await setUpUsers();
      const post = async (path: string, body: unknown, token?: string) => {
        const res = await fetch(`${EP}/v3/${path}`, {
          method: "POST",
          headers: token ? { authorization: token } : {},
          body: JSON.stringify(body),
        });
        return { status: res.status, json: await res.json() };
      };
      const auth = await post("auth/authenticate", { name: "alice", password: "apw" });
      const token: string = auth.json.token;
      // etcd's simple token: 16 letters, a dot, the raft index of the Authenticate entry.
      assert.match(token, /^[a-zA-Z]{16}\.\d+$/);
      const range = { key: btoa("pre/"), range_end: btoa("pre0") };
      assert.equal((await post("kv/range", range, token)).status, 200);
      assert.deepEqual(await post("kv/range", { key: btoa("x") }, token), {
        status: 403,
        json: {
          error: "etcdserver: permission denied",
          message: "etcdserver: permission denied",
          code: 7,
        },
      });
      assert.deepEqual((await post("kv/range", range, "forged.1")).json.code, 16);
      assert.deepEqual(
        (await post("kv/range", range)).json.message,
        "etcdserver: user name is empty",
      );
      // Each use restarts the TTL; two idle seconds end the token.
      await sleep(1200);
      assert.equal((await post("kv/range", range, token)).status, 200);
      await sleep(2500);
      assert.deepEqual(await post("kv/range", range, token), {
        status: 401,
        json: {
          error: "etcdserver: invalid auth token",
          message: "etcdserver: invalid auth token",
          code: 16,
        },
      });
    } finally {
      await stop(m);
    }
  },
);

itest(
  "users, roles and the enabled flag survive a restart; auth disable opens the store",
  async () => {
    await assertPortsFree(IP, [2379, 2380]);
    const dir = tempDir().path;
    let m = await member(dir);
    try {
      await setUpUsers();
      await as("alice:apw", "put", "pre/k", "v");
      await stop(m);
      m = await member(dir);
      assert.equal(await ctl(["get", "pre/k"]), "Error: etcdserver: user name is empty\n[rc=1]\n");
      assert.equal(await as("root:rootpw", "user", "list"), "alice\nroot\n[rc=0]\n");
      assert.equal(
        await as("root:rootpw", "role", "get", "pre"),
        "Role pre\nKV Read:\n\t[pre/, pre0) (prefix pre/)\nKV Write:\n\t[pre/, pre0) (prefix pre/)\n" +
          "[rc=0]\n",
      );
      assert.equal(await as("alice:apw", "get", "pre/k"), "pre/k\nv\n[rc=0]\n");
      assert.equal(
        await as("alice:apw", "get", "x"),
        "Error: etcdserver: permission denied\n[rc=1]\n",
      );
      assert.equal(await as("root:rootpw", "auth", "disable"), "Authentication Disabled\n[rc=0]\n");
      assert.equal(await ctl(["get", "pre/k"]), "pre/k\nv\n[rc=0]\n");
      await stop(m);
      m = await member(dir);
      assert.equal(await ctl(["put", "x", "1"]), "OK\n[rc=0]\n");
      assert.equal(await ctl(["user", "get", "alice"]), "User: alice\nRoles: pre\n[rc=0]\n");
    } finally {
      await stop(m);
    }
  },
);

itest("a token from one member works on every member: Authenticate goes through Raft", async () => {
  const cluster = await makeCluster("127.0.17", 3);
  try {
    const procs = cluster.members.map((_, i) => cluster.start(i));
    await Promise.all(procs.map((p) => p.waitFor("ready to serve client requests", 30_000)));
    const on = (i: number, ...args: string[]) => etcdctl(cluster.members[i].clientURL, ...args);
    for (
      const args of [
        ["user", "add", "root:rootpw", "--interactive=false"],
        ["user", "grant-role", "root", "root"],
        ["user", "add", "alice:apw", "--interactive=false"],
        ["role", "add", "k"],
        ["role", "grant-permission", "k", "read", "k"],
        ["user", "grant-role", "alice", "k"],
        ["auth", "enable"],
        ["--user", "root:rootpw", "put", "k", "v"],
      ]
    ) assert.equal((await on(0, ...args)).code, 0, args.join(" "));
    const res = await fetch(`${cluster.members[0].clientURL}/v3/auth/authenticate`, {
      method: "POST",
      body: JSON.stringify({ name: "alice", password: "apw" }),
    });
    const { token } = await res.json();
    for (const m of cluster.members) {
      const range = await fetch(`${m.clientURL}/v3/kv/range`, {
        method: "POST",
        headers: { authorization: token },
        body: JSON.stringify({ key: btoa("k") }),
      });
      assert.equal(atob((await range.json()).kvs[0].value), "v", m.name);
    }
    assert.equal((await on(2, "--user", "alice:apw", "get", "k")).stdout, "k\nv\n");
    assert.match(
      (await on(1, "--user", "alice:apw", "put", "k", "x")).stderr,
      /Error: etcdserver: permission denied\n$/,
    );
  } finally {
    await cluster.stopAll();
  }
});

itest(
  "--client-cert-auth: a verified certificate's CN is the user unless a token is sent",
  async () => {
    const ip = "127.0.17.2";
    await assertPortsFree(ip, [2379, 2380]);
    const dir = tempDir().path;
    const pki = await issueCerts(dir, [
      { name: "server", san: `IP:${ip}` },
      { name: "root" },
      { name: "alice" },
    ]);
    const flags = singleMemberFlags("s1", ip, `${dir}/data`).map((f) =>
      f.replace(`http://${ip}:2379`, `https://${ip}:2379`)
    );
    const m = await startReady([
      ...flags,
      "--cert-file",
      pki.cert("server"),
      "--key-file",
      pki.key("server"),
      "--trusted-ca-file",
      pki.ca,
      "--client-cert-auth",
    ]);
    const as = (cn: string, ...args: string[]) =>
      etcdctl(
        `https://${ip}:2379`,
        "--cacert",
        pki.ca,
        "--cert",
        pki.cert(cn),
        "--key",
        pki.key(cn),
        ...args,
      );
    try {
      for (
        const args of [
          ["user", "add", "root:rootpw", "--interactive=false"],
          ["user", "grant-role", "root", "root"],
          ["user", "add", "alice:apw", "--interactive=false"],
          ["role", "add", "k"],
          ["role", "grant-permission", "k", "read", "k"],
          ["user", "grant-role", "alice", "k"],
          ["auth", "enable"],
          ["put", "k", "v"],
        ]
      ) assert.equal((await as("root", ...args)).code, 0, args.join(" "));
      assert.equal((await as("alice", "get", "k")).stdout, "k\nv\n");
      assert.match(
        (await as("alice", "put", "k", "x")).stderr,
        /Error: etcdserver: permission denied\n$/,
      );
      assert.equal((await as("alice", "--user", "root:rootpw", "put", "k", "y")).stdout, "OK\n");
    } finally {
      await stop(m);
    }
  },
);
