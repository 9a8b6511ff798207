// The member's backend as etcd 3.4's bbolt file and back: the snapshot stream holds etcd's
// buckets with etcd's encodings, reading it into an empty backend gives the same key space
// (revisions, history, compaction points), leases, alarms, auth and members, and a snapshot
// taken while writes and compaction go on is the backend at the one revision it started at.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { openDb } from "../../src/bbolt/mod.ts";
import { loadAuthState, saveAuthState } from "../../src/auth/mod.ts";
import { Backend } from "../../src/server/backend.ts";
import { AlarmAction, AlarmType } from "../../src/server/alarms.ts";
import { memberJSON, Membership, parseMemberJSON } from "../../src/server/membership.ts";
import { loadMembership, saveMembershipBuckets } from "../../src/server/membership_store.ts";
import { etcdSnapshotStream, importEtcdBackend } from "../../src/server/etcd_db/mod.ts";
import { b, del, keysAt, put } from "../helpers/mvcc.ts";

const LEASE = 7587862234567813650n;
const MEMBER = 0xc4d2b988cdb4bc6en; // above 2^53: its JSON number must not be rounded

async function withBackends(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "etcd-db-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the stream to its end: the file, the last piece (its SHA-256) and every remainingBytes. */
async function snapshot(backend: Backend) {
  const pieces = [];
  for await (const p of etcdSnapshotStream(backend)) pieces.push(p);
  const sha = pieces.pop()!;
  const file = new Uint8Array(pieces.reduce((n, p) => n + p.blob.length, 0));
  let off = 0;
  for (const p of pieces) {
    file.set(p.blob, off);
    off += p.blob.length;
    assert.equal(p.remainingBytes, file.length - off, "bytes still to come, sha not counted");
  }
  return { file, sha: sha.blob, pieces: pieces.length };
}

function fill(backend: Backend): void {
  const st = backend.store;
  put(st, "a", "1"); // 2
  put(st, "b", "1"); // 3
  put(st, "a", "2"); // 4
  const txn = st.write(); // 5: three changes, sub revisions 0..2
  txn.put(b("c"), b("x"), 0n);
  txn.put(b("d"), b("y"), 0n);
  txn.deleteRange(b("b"));
  txn.end();
  put(st, "leased", "v", LEASE); // 6
  del(st, "a"); // 7
  put(st, "a", "3"); // 8
  void st.compact(5);
  while (!st.compactStep()) { /* whole */ }
  put(st, "e", "after compaction"); // 9
  backend.leasePersistence().saveLease(LEASE, 600);
  backend.leasePersistence().saveLease(-5n, 30); // etcd's int64 IDs sort as their bytes
  backend.alarms.apply({
    action: AlarmAction.ACTIVATE,
    memberID: MEMBER,
    alarm: AlarmType.NOSPACE,
  });
  saveAuthState(backend.aux, {
    enabled: true,
    revision: 7,
    users: [
      { name: "root", password: "$2a$10$hash", roles: ["root"], noPassword: false },
      { name: "ü-nopass", password: "", roles: ["r1"], noPassword: true },
    ],
    roles: [{ name: "r1", keyPermission: [{ permType: 2, key: b("a"), rangeEnd: b("b") }] }],
  });
  const m = new Membership(0x272f45cd34c01fc7n);
  m.add({
    id: MEMBER,
    name: "e1",
    peerURLs: ["http://p:2380"],
    clientURLs: ["http://c:2379"],
    isLearner: false,
  });
  m.add({ id: 5n, name: "", peerURLs: ["http://l:2380"], clientURLs: [], isLearner: true });
  m.removed.add(0xabcn);
  m.version = "3.4.0";
  saveMembershipBuckets(backend.aux, m);
  backend.store.setConsistentIndex(42);
  backend.commit();
}

Deno.test("etcd backend: the snapshot is etcd's buckets, and reads back into the same state", async () => {
  await withBackends(async (dir) => {
    const src = new Backend(`${dir}/src.db`);
    fill(src);
    const { file, sha } = await snapshot(src);
    assert.deepEqual(new Uint8Array(createHash("sha256").update(file).digest()), sha);
    assert.equal(file.length % 4096, 0);
    const db = openDb(file);
    const names = db.buckets().map((n) => new TextDecoder().decode(n));
    assert.deepEqual(names, [
      "alarm",
      "auth",
      "authRoles",
      "authUsers",
      "cluster",
      "key",
      "lease",
      "members",
      "members_removed",
      "meta",
    ]);
    const hex = (u?: Uint8Array) =>
      Array.from(u ?? [], (x) => x.toString(16).padStart(2, "0")).join("");
    const meta = db.bucket("meta")!;
    assert.equal(hex(meta.get("consistent_index")), "000000000000002a");
    assert.equal(hex(meta.get("scheduledCompactRev")), "00000000000000055f0000000000000000");
    assert.equal(hex(meta.get("finishedCompactRev")), "00000000000000055f0000000000000000");
    assert.equal(hex(db.bucket("auth")!.get("authRevision")), "0000000000000007");
    assert.equal(hex(db.bucket("auth")!.get("authEnabled")), "01");
    assert.equal(new TextDecoder().decode(db.bucket("cluster")!.get("clusterVersion")), "3.4.0");
    assert.equal(
      new TextDecoder().decode(db.bucket("members")!.get("c4d2b988cdb4bc6e")),
      `{"id":14182602173760978030,"peerURLs":["http://p:2380"],"name":"e1","clientURLs":["http://c:2379"]}`,
    );
    // Tombstones carry a 't' after the revision; leases are keyed by their big-endian int64.
    const keys = [...db.bucket("key")!.entries()].map(([k]) => hex(k));
    assert.ok(keys.includes("00000000000000075f000000000000000074"), "a deleted at 7");
    assert.deepEqual([...db.bucket("lease")!.entries()].map(([k]) => hex(k)), [
      LEASE.toString(16).padStart(16, "0"),
      "fffffffffffffffb",
    ]);

    const dst = new Backend(`${dir}/dst.db`);
    importEtcdBackend(db, dst);
    dst.commit();
    assert.equal(dst.store.consistentIndex(), 42);
    assert.equal(dst.store.rev(), src.store.rev());
    assert.equal(dst.store.compactRevision(), 5);
    for (let r = 5; r <= 9; r++) {
      assert.deepEqual(keysAt(dst.store, r), keysAt(src.store, r), `rev ${r}`);
    }
    assert.deepEqual(dst.store.hashKV(0), src.store.hashKV(0));
    assert.deepEqual(dst.store.revisionCount(), src.store.revisionCount());
    assert.deepEqual(dst.leasePersistence().loadLeases(), src.leasePersistence().loadLeases());
    assert.deepEqual(dst.alarms.list(), src.alarms.list());
    assert.deepEqual(loadAuthState(dst.aux), loadAuthState(src.aux));
    const m = loadMembership(src.aux, 1n);
    const back = loadMembership(dst.aux, 1n);
    assert.deepEqual(back.list(), m.list());
    assert.deepEqual([...back.removed], [...m.removed]);
    assert.equal(back.version, "3.4.0");
    src.close();
    dst.close();
  });
});

Deno.test("etcd backend: a snapshot taken while writes and compaction go on is one revision's", async () => {
  await withBackends(async (dir) => {
    const src = new Backend(`${dir}/src.db`);
    for (let i = 0; i < 20_000; i++) put(src.store, `k${i % 5000}`, `v${i}`);
    src.commit();
    const stream = etcdSnapshotStream(src);
    const first = stream.next(); // the backend is captured here, before the first await
    const rev = src.store.rev();
    const want = src.store.hashKV(0);
    const wantKeys = keysAt(src.store, rev, "k1", "k2");
    // A write (and, at the fifth, a compaction) between every two pieces the stream yields:
    // each lands while the snapshot is being written, whatever the machine's speed.
    let writes = 0;
    const pieces = [(await first).value!];
    for await (const p of stream) {
      pieces.push(p);
      put(src.store, `k${writes % 5000}`, "changed during the snapshot");
      if (++writes === 5) void src.store.compact(src.store.rev() - 1);
    }
    const writesDuring = writes;
    assert.ok(writesDuring > 5, `writes ran while the snapshot was written (${writesDuring})`);
    const file = new Uint8Array(pieces.slice(0, -1).flatMap((p) => [...p.blob]));
    const dst = new Backend(`${dir}/dst.db`);
    importEtcdBackend(openDb(file), dst);
    assert.equal(dst.store.rev(), rev);
    assert.equal(dst.store.compactRevision(), -1, "the compaction came after the capture");
    assert.deepEqual(dst.store.hashKV(0), want);
    assert.deepEqual(keysAt(dst.store, rev, "k1", "k2"), wantKeys);
    assert.ok(src.store.rev() > rev);
    src.close();
    dst.close();
  });
});

Deno.test("etcd member JSON: Go's field order and omissions, 64-bit IDs kept exact", () => {
  const m = { id: MEMBER, name: "", peerURLs: ["http://a:2380"], clientURLs: [], isLearner: true };
  const text = memberJSON(m);
  assert.equal(text, `{"id":14182602173760978030,"peerURLs":["http://a:2380"],"isLearner":true}`);
  assert.deepEqual(parseMemberJSON(text), { member: m, isPromote: false, legacy: false });
  assert.throws(() => parseMemberJSON(`[1`), SyntaxError);
});
