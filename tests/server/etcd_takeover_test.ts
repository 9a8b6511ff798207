// Taking over an etcd 3.4 data dir, in process, on a data dir made here the way etcd lays it out
// (its WAL framing, bbolt backend with etcd's buckets): what the new member dir holds, etcd's
// files kept byte for byte, a swap cut short by a crash finished at the next start, and a refused
// data dir left exactly as it was. The integration test does the same on one a real etcd wrote.
import assert from "node:assert/strict";
import { buildDb } from "../../src/bbolt/mod.ts";
import { messages } from "../../src/pb/mod.ts";
import { revisionKey, storedKeyValue } from "../../src/mvcc/mod.ts";
import { ConfChangeType, encodeConfChange, type Entry, EntryType } from "../../src/raft/mod.ts";
import { BootstrapError, memberPaths, takeOverEtcdDataDir } from "../../src/server/mod.ts";
import { Backend } from "../../src/server/backend.ts";
import { decodeProposal } from "../../src/server/proposal.ts";
import { openWal, Snapshotter } from "../../src/storage/mod.ts";
import { testLog } from "../helpers/log.ts";
import { fileHashes, tempDir } from "../helpers/tmp.ts";
import {
  etcdSegment,
  segmentName,
  walEntry,
  walMetadata,
  walSnapshot,
  walState,
} from "../helpers/etcd_wal.ts";

const MEMBER = 0xc4d2b988cdb4bc6en;
const CLUSTER = 0x272f45cd34c01fc7n;
const utf8 = new TextEncoder();
const u64 = (n: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
};
const put = (id: bigint, key: string, value: string) =>
  messages["etcdserverpb.InternalRaftRequest"].encode({
    header: { ID: id },
    put: { key: utf8.encode(key), value: utf8.encode(value) },
  });
const normal = (index: number, data: Uint8Array): Entry => ({
  type: EntryType.Normal,
  term: 2,
  index,
  data,
});

/**
 * etcd after bootstrapping one member (entry 1), two puts its backend committed (2, 3, revisions 2
 * and 3), then its publish and a put that reached only the WAL (4, 5); `tail` is appended.
 */
async function etcdDataDir(dataDir: string, tail: Entry[] = []): Promise<void> {
  const memberJSON = `{"id":${MEMBER},"peerURLs":["http://127.0.0.1:2380"]}`;
  const entries: Entry[] = [
    {
      type: EntryType.ConfChange,
      term: 1,
      index: 1,
      data: encodeConfChange({
        id: 0,
        type: ConfChangeType.AddNode,
        nodeId: MEMBER,
        context: utf8.encode(memberJSON),
      }),
    },
    normal(2, put(11n, "a", "1")),
    normal(3, put(12n, "b", "2")),
    normal(
      4,
      messages["etcdserverpb.Request"].encode({
        ID: 13n,
        Method: "PUT",
        Path: `/0/members/${MEMBER.toString(16)}/attributes`,
        Val: `{"name":"m1","clientURLs":["http://127.0.0.1:2379"]}`,
      }),
    ),
    normal(5, put(14n, "c", "3")),
    ...tail,
  ];
  const wal = etcdSegment(walMetadata(MEMBER, CLUSTER), [
    walSnapshot(0, 0),
    ...entries.map(walEntry),
    walState(2, entries.length, MEMBER),
  ], 0);
  await Deno.mkdir(`${dataDir}/member/wal`, { recursive: true });
  await Deno.mkdir(`${dataDir}/member/snap`, { recursive: true });
  await Deno.writeFile(`${dataDir}/member/wal/${segmentName(0, 0)}`, wal.bytes);
  const kv = (key: string, value: string, rev: number) =>
    [
      revisionKey(rev, 0, false),
      storedKeyValue({
        key: utf8.encode(key),
        value: utf8.encode(value),
        createRevision: rev,
        modRevision: rev,
        version: 1,
        lease: 0n,
      }),
    ] as const;
  const db = await buildDb([
    { name: "key", entries: [kv("a", "1", 2), kv("b", "2", 3)] },
    { name: "meta", entries: [["consistent_index", u64(3)]] },
    { name: "members", entries: [[MEMBER.toString(16), utf8.encode(memberJSON)]] },
    { name: "members_removed" },
    { name: "lease" },
  ]);
  await Deno.writeFile(`${dataDir}/member/snap/db`, db);
}

Deno.test("takeover: etcd's files kept, the member dir rebuilt with the unapplied tail to apply", async () => {
  await using dir = tempDir();
  const dataDir = `${dir.path}/data`;
  await etcdDataDir(dataDir);
  const before = await fileHashes(`${dataDir}/member`);
  const log = testLog();
  const paths = memberPaths(dataDir, "");
  await takeOverEtcdDataDir(paths, log.log);
  assert.match(
    await log.waitFor("took over etcd 3.4's data dir"),
    new RegExp(`at raft index 3, 2 entries .* kept unchanged in ${dataDir}/member\\.etcd-3\\.4`),
  );
  assert.deepEqual(await fileHashes(`${dataDir}/member.etcd-3.4`), before);

  const backend = new Backend(paths.dbPath);
  assert.deepEqual([backend.store.rev(), backend.store.consistentIndex()], [3, 3]);
  assert.deepEqual(backend.store.range(utf8.encode("a"), utf8.encode("z")).kvs.length, 2);
  const membership = backend.loadMembership()!;
  assert.equal(membership.clusterId, CLUSTER);
  assert.deepEqual(membership.list().map((m) => m.id), [MEMBER]);
  backend.close();
  const snap = await new Snapshotter(paths.snapDir).loadNewest();
  assert.deepEqual(snap?.metadata, {
    index: 3,
    term: 2,
    confState: { voters: [MEMBER], learners: [] },
  });
  const wal = await openWal(paths.walDir, { index: 3, term: 2 });
  await wal.wal.close();
  assert.deepEqual(wal.hardState, { term: 2, vote: MEMBER, commit: 5 });
  const [publish, lastPut] = wal.entries.map((e) => decodeProposal(e.data));
  assert.deepEqual(publish, {
    kind: "memberAttrSet",
    id: 13n,
    request: { memberId: MEMBER, name: "m1", clientURLs: ["http://127.0.0.1:2379"] },
  });
  assert.equal(lastPut.kind, "put");

  // Nothing to do on an etcd-ts data dir.
  const after = await fileHashes(dataDir);
  await takeOverEtcdDataDir(paths, testLog().log);
  assert.deepEqual(await fileHashes(dataDir), after);
});

Deno.test("takeover: a swap cut short by a crash is finished at the next start", async () => {
  await using dir = tempDir();
  const dataDir = `${dir.path}/data`;
  await etcdDataDir(dataDir);
  const paths = memberPaths(dataDir, "");
  await takeOverEtcdDataDir(paths, testLog().log);
  const built = await fileHashes(`${dataDir}/member`);
  // As if the process died between moving etcd's dir aside and moving ours in.
  await Deno.rename(`${dataDir}/member`, `${dataDir}/member.etcd-ts-import`);
  const log = testLog();
  await takeOverEtcdDataDir(paths, log.log);
  await log.waitFor("finished taking over etcd's data dir");
  assert.deepEqual(await fileHashes(`${dataDir}/member`), built);
  assert.deepEqual([...Deno.readDirSync(dataDir)].map((e) => e.name).sort(), [
    "member",
    "member.etcd-3.4",
  ]);
});

Deno.test("takeover: a refused data dir is left exactly as it was", async () => {
  await using dir = tempDir();
  const dataDir = `${dir.path}/data`;
  const userAdd = messages["etcdserverpb.InternalRaftRequest"].encode({
    header: { ID: 15n },
    authUserAdd: { name: "u", password: "pw" },
  });
  await etcdDataDir(dataDir, [normal(6, userAdd)]);
  const before = await fileHashes(dir.path);
  await assert.rejects(
    () => takeOverEtcdDataDir(memberPaths(dataDir, ""), testLog().log),
    (err: Error) => {
      assert.ok(err instanceof BootstrapError);
      assert.match(err.message, /^cannot take over etcd's data dir .*entry 6 \(authUserAdd\)/);
      return true;
    },
  );
  assert.deepEqual(await fileHashes(dir.path), before);
});
