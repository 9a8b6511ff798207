// A data dir etcd-ts wrote before its entries carried etcd's formats (testdata/etcd-ts-0e6c92a,
// made by its make.sh) restarts: the backend is rewritten in etcd's layout once (membership in
// etcd's buckets and the v2 store's /0, v2 keys under /1), the old entries after its consistent
// index are applied (puts and a txn with their users, a lease, users and roles with the hashes
// they carry, v2 writes, a learner added), and everything reads as it did; it restarts again
// without rewriting anything. Address block 127.0.250.x (the fixture's member is 127.0.250.9).
import assert from "node:assert/strict";
import { itest, type Proc, singleMemberFlags, startReady, stop } from "../helpers/process.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl } from "../helpers/etcdctl.ts";
import { tempDir } from "../helpers/tmp.ts";

const IP = "127.0.250.9";
const EP = `http://${IP}:2379`;
const FIXTURE = new URL("./testdata/etcd-ts-0e6c92a/member/", import.meta.url);

function copyDir(from: URL, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (e.isDirectory) copyDir(new URL(`${e.name}/`, from), `${to}/${e.name}`);
    else Deno.copyFileSync(new URL(e.name, from), `${to}/${e.name}`);
  }
}

async function ok(...args: string[]): Promise<string> {
  const r = await etcdctl(EP, ...args);
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** What a client reads of the fixture's state. */
async function state() {
  const root = "--user=root:rootpw";
  return {
    keys: await ok(root, "get", "", "--from-key", "--keys-only"),
    after2: await ok(root, "get", "after2", "--print-value-only"),
    leased: JSON.parse(await ok(root, "get", "leased", "-w", "json")).kvs[0].lease,
    members: await ok(root, "member", "list"),
    users: await ok(root, "user", "list"),
    writer: await ok(root, "role", "get", "writer"),
    // Remaining TTLs count down between reads; the expiration stays.
    v2: JSON.parse(
      await (await fetch(`${EP}/v2/keys/?recursive=true&sorted=true`)).text(),
      (k, v) => k === "ttl" ? undefined : v,
    ),
    version: await (await fetch(`${EP}/version`)).json(),
  };
}

itest("an etcd-ts data dir from before etcd's formats restarts, twice", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  await using dir = tempDir();
  const dataDir = `${dir.path}/data`;
  copyDir(FIXTURE, `${dataDir}/member`);
  const flags = [...singleMemberFlags("f1", IP, dataDir), "--enable-v2"];
  let member: Proc | undefined;
  try {
    member = await startReady(flags);
    assert.ok(member.lines.some((l) => l.includes("in etcd 3.4's layout")), "rewritten once");
    const first = await state();
    assert.equal(first.after2.trim(), "y", "the old txn, applied now");
    assert.doesNotMatch(first.keys, /^k1$/m, "which deleted k1");
    assert.match(first.keys, /^k18$/m);
    assert.notEqual(first.leased, "0", "leased keeps its lease");
    assert.match(first.members, /started, f1, http:\/\/127\.0\.250\.9:2380/);
    assert.match(first.members, /unstarted, , http:\/\/127\.0\.250\.9:2390, , true/);
    assert.deepEqual(first.users.trim().split("\n"), ["alice", "bob", "root"]);
    assert.match(first.writer, /\[b, c\) \(prefix b\)/);
    assert.deepEqual(first.version, { etcdserver: "3.4.23", etcdcluster: "3.4.0" });
    const keys = first.v2.node.nodes.map((n: { key: string }) => n.key);
    assert.deepEqual(keys, ["/c", "/dir", "/ttl"], "b was deleted by an old entry");
    assert.equal(first.v2.node.nodes[0].modifiedIndex, 3, "v2 indexes as they were");
    // Passwords: hashed where they were proposed (old entries) or where they are applied.
    assert.equal((await etcdctl(EP, "--user=bob:bobpw", "put", "bx", "1")).code, 0);
    assert.equal((await etcdctl(EP, "--user=alice:alicepw", "get", "k")).code, 0);
    await ok("--user=root:rootpw", "user", "add", "carol:carolpw");
    await ok("--user=root:rootpw", "put", "new", "after the rewrite");
    await stop(member);

    member = await startReady(flags);
    assert.ok(!member.lines.some((l) => l.includes("in etcd 3.4's layout")), "nothing twice");
    const second = await state();
    assert.match(second.keys, /^new$/m);
    assert.deepEqual(second.v2, first.v2);
    assert.equal(second.members, first.members);
    // A user may read itself: carol logs in with the password hashed where it was applied.
    assert.equal((await etcdctl(EP, "--user=carol:carolpw", "user", "get", "carol")).code, 0);
  } finally {
    if (member) await stop(member);
  }
});
