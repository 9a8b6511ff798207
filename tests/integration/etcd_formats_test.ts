// etcd 3.4's own log and snapshot, read with etcd-ts's codecs. A real etcd 3.4 member gets
// every kind of request a cluster replicates (key space, leases, compaction, alarms, every auth
// request with and without a user, v2 writes of every method, members added, updated and
// removed, its attributes and the cluster version) and snapshots, then is stopped; every entry
// of its WAL decodes with etcd-ts's decoder and encodes back to the very same bytes, every conf
// change's context parses and marshals back to the same JSON, and its snap file's v2 store
// recovers into etcd-ts's with the membership etcd lists and the v2 keys etcd serves.
// Address block 127.0.251.x.
import assert from "node:assert/strict";
import { decodeConfChange, EntryType } from "../../src/raft/mod.ts";
import { etcdWalSnapshots, loadNewestEtcdSnap, readEtcdWal } from "../../src/storage/mod.ts";
import { V2Store } from "../../src/v2store/mod.ts";
import { decodeProposal, encodeProposal } from "../../src/server/proposal.ts";
import { memberJSON, parseMemberJSON, promoteContextJSON } from "../../src/server/membership.ts";
import { membershipFromStore } from "../../src/server/membership_store.ts";
import { V2PrefixView } from "../../src/server/v2.ts";
import { itest, singleMemberFlags, spawn, stop } from "../helpers/process.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl, etcdctlWith, memberList } from "../helpers/etcdctl.ts";
import { tempDir } from "../helpers/tmp.ts";

const IP = "127.0.251.1";
const EP = `http://${IP}:2379`;
const fromUtf8 = new TextDecoder();

async function ok(...args: string[]): Promise<string> {
  const r = await etcdctl(EP, ...args);
  assert.equal(r.code, 0, `etcdctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const withStdin = (stdin: string, ...args: string[]) =>
  etcdctlWith({ stdin })(EP, ...args).then((r) => assert.equal(r.code, 0, r.stderr));

async function v2(method: string, path: string, form = ""): Promise<void> {
  const res = await fetch(`${EP}/v2/keys${path}`, {
    method,
    body: form || undefined,
    headers: form ? { "content-type": "application/x-www-form-urlencoded" } : {},
  });
  const body = await res.text();
  assert.ok(res.status < 300, `${method} ${path}: ${body}`);
}

/** Every kind of replicated request, from etcdctl and curl as users send them. */
async function workload(): Promise<void> {
  await ok("put", "foo", "bar");
  await ok("put", "foo", "baz", "--prev-kv");
  const lease = /lease ([0-9a-f]+) granted/.exec(await ok("lease", "grant", "600"))![1];
  await ok("put", "leased", "v", `--lease=${lease}`);
  await withStdin('mod("foo") > "0"\n\nput foo ok\ndel leased\n\nget foo\n\n', "txn");
  await ok("del", "--prefix", "fo");
  await ok("compact", "3");
  await ok("lease", "revoke", lease);
  for (const args of [["role", "add", "root"], ["role", "add", "r1"]]) await ok(...args);
  await ok("user", "add", "root:pw");
  await ok("user", "grant-role", "root", "root");
  await ok("role", "grant-permission", "r1", "readwrite", "a", "b");
  await ok("role", "grant-permission", "--prefix", "r1", "read", "p");
  await withStdin("x\n", "user", "add", "u1", "--interactive=false");
  await ok("user", "add", "cn-only", "--no-password");
  await ok("user", "grant-role", "u1", "r1");
  await ok("user", "revoke-role", "u1", "r1");
  await withStdin("y\n", "user", "passwd", "u1", "--interactive=false");
  await ok("role", "revoke-permission", "r1", "a", "b");
  for (const args of [["user", "get", "u1"], ["user", "list"], ["role", "get", "r1"]]) {
    await ok(...args);
  }
  await ok("role", "list");
  await ok("auth", "enable");
  const root = "--user=root:pw";
  await ok(root, "put", "after", "auth");
  await ok(root, "user", "delete", "u1");
  await ok(root, "role", "delete", "r1");
  await ok(root, "alarm", "list");
  await ok(root, "auth", "disable");
  await v2("PUT", "/ttl", "value=x&ttl=600");
  await v2("PUT", "/dir?dir=true");
  await v2("PUT", "/dir/a", "value=a%3Cb%26c");
  await v2("PUT", "/dir/a", "value=2&prevValue=a%3Cb%26c");
  await v2("PUT", "/new", "value=1&prevExist=false");
  await v2("POST", "/queue", "value=job");
  await v2("GET", "/dir/a?quorum=true");
  await v2("PUT", "/ttl", "ttl=900&refresh=true&prevExist=true");
  await v2("DELETE", "/new");
  const peerURL = `http://${IP.slice(0, -1)}2:2380`;
  await ok("member", "add", "m2", "--learner", `--peer-urls=${peerURL}`);
  // The learner's ID from the member list, not from the add's text (its wording is etcdctl's).
  const learner = (await memberList(EP)).members.find((m) => m.peerURLs.includes(peerURL));
  assert.ok(learner, "the learner is listed");
  const id = learner.ID.toString(16);
  await ok("member", "update", id, `--peer-urls=http://${IP.slice(0, -1)}3:2380`);
  await ok("member", "remove", id);
}

itest("etcd 3.4's entries and snapshot, read and written back by etcd-ts", async () => {
  await assertPortsFree(IP, [2379, 2380]);
  await using dir = tempDir();
  const dataDir = `${dir.path}/data`;
  const etcd = spawn("etcd", [
    ...singleMemberFlags("e1", IP, dataDir),
    "--enable-v2",
    "--snapshot-count=40",
  ]);
  let listed, served;
  try {
    await etcd.waitFor("ready to serve client requests", 30_000);
    await workload();
    // Enough entries after the last change for a snapshot that holds them all.
    const last = JSON.parse(await ok("endpoint", "status", "-w", "json"))[0].Status.raftIndex;
    for (let i = 0; i < 41; i++) await ok("put", `filler-${i % 4}`, String(i));
    await etcd.waitFor((l) => Number(/saved snapshot at index (\d+)/.exec(l)?.[1]) >= last);
    listed = await memberList(EP);
    served = await (await fetch(`${EP}/v2/keys/?recursive=true&sorted=true`)).json();
  } finally {
    await stop(etcd);
  }

  const walDir = `${dataDir}/member/wal`;
  const wal = readEtcdWal(walDir, { index: 0, term: 0 });
  const kinds = new Map<string, number>();
  let contexts = 0;
  for (const e of wal.entries) {
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      if (cc.context.length === 0) continue;
      const text = fromUtf8.decode(cc.context);
      const { member, isPromote } = parseMemberJSON(text);
      assert.equal(isPromote ? promoteContextJSON(member.id) : memberJSON(member), text);
      contexts++;
      continue;
    }
    if (e.data.length === 0) continue;
    const p = decodeProposal(e.data);
    const what = p.kind === "auth"
      ? Object.keys(p.request)[0]
      : p.kind === "v2"
      ? `v2 ${p.request.Method}`
      : p.kind;
    kinds.set(what, (kinds.get(what) ?? 0) + 1);
    assert.deepEqual(encodeProposal(p), e.data, `entry ${e.index} (${what})`);
  }
  assert.equal(contexts, 3, "the initial member, the learner and its update");
  const want = [
    ...["put", "txn", "deleteRange", "compaction", "leaseGrant", "leaseRevoke", "alarm"],
    ...["memberAttrSet", "clusterVersionSet", "v2 PUT", "v2 POST", "v2 QGET", "v2 DELETE"],
    ...["authEnable", "authDisable", "authenticate", "authUserAdd", "authUserDelete"],
    ...["authUserGet", "authUserChangePassword", "authUserGrantRole", "authUserRevokeRole"],
    ...["authUserList", "authRoleList", "authRoleAdd", "authRoleDelete", "authRoleGet"],
    ...["authRoleGrantPermission", "authRoleRevokePermission"],
  ];
  assert.deepEqual(want.filter((k) => !kinds.has(k)), [], `kinds seen: ${[...kinds.keys()]}`);

  const snap = loadNewestEtcdSnap(`${dataDir}/member/snap`, etcdWalSnapshots(walDir), () => {});
  assert.ok(snap, "etcd saved a snapshot");
  const store = new V2Store();
  store.recoverEtcdJSON(fromUtf8.decode(snap.data));
  const m = membershipFromStore(store, listed.clusterId);
  assert.deepEqual(
    m.list().map((x) => [x.id, x.name, x.peerURLs, x.clientURLs]),
    listed.members.map((x) => [x.ID, x.name, x.peerURLs, x.clientURLs]),
  );
  assert.equal(m.removed.size, 1, "the member added, updated and removed");
  assert.equal(m.version, "3.4.0");
  const keys = new V2PrefixView(store, "/1").get("/", true, true);
  const noTTL = (j: unknown) =>
    JSON.parse(JSON.stringify(j), (k, v) => k === "ttl" || k === "expiration" ? undefined : v);
  assert.deepEqual(noTTL({ action: "get", node: keys.node }), noTTL(served));
});
