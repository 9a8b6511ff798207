// etcd 3.4's own files: the backend a real etcd leaves in member/snap/db and the snapshot
// `etcdctl snapshot save` writes read through our reader; a copy we write of that backend gives
// etcdctl the same snapshot status, and etcd restores from it and serves its keys.
import assert from "node:assert/strict";
import { compactDb, type Db, fileSink, openDb, openDbFile } from "../../../src/bbolt/mod.ts";
import { itest, run, singleMemberFlags, startReadyEtcd, stop } from "../../helpers/process.ts";
import { assertPortsFree } from "../../helpers/ports.ts";
import { etcdctl } from "../../helpers/etcdctl.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { bboltOk } from "../../helpers/go_tools.ts";
import { readerDump } from "../../helpers/bbolt.ts";

const IP = "127.0.120.1";
const RESTORED_IP = "127.0.120.2";
const dec = new TextDecoder();

/** The writes the test makes, in revision order from revision 2 (etcd starts at 1). */
const writes: [string, string | null][] = [
  ["foo", "bar"],
  ["hello", "world"],
  ["foo", "baz"],
  ["gone", "soon"],
  ["gone", null],
];

/** mvccpb.KeyValue's fields: key 1, create_revision 2, mod_revision 3, version 4, value 5. */
function decodeKeyValue(b: Uint8Array): Map<number, Uint8Array | bigint> {
  const fields = new Map<number, Uint8Array | bigint>();
  let at = 0;
  const varint = () => {
    let n = 0n;
    for (let shift = 0n;; shift += 7n) {
      const c = b[at++];
      n |= BigInt(c & 0x7f) << shift;
      if (c < 0x80) return n;
    }
  };
  while (at < b.length) {
    const tag = Number(varint());
    if ((tag & 7) === 2) {
      const len = Number(varint());
      fields.set(tag >> 3, b.subarray(at, at + len));
      at += len;
    } else fields.set(tag >> 3, varint());
  }
  return fields;
}

function checkBackend(db: Db): void {
  const names = db.buckets().map((n) => dec.decode(n));
  for (const want of ["key", "meta", "members", "cluster", "lease", "auth"]) {
    assert.ok(names.includes(want), `bucket ${want} in ${names}`);
  }
  const revisions = [...db.bucket("key")!.entries()];
  assert.equal(db.bucket("key")!.count(), writes.length);
  revisions.forEach(([rev, kv], i) => {
    const view = new DataView(rev.buffer, rev.byteOffset, rev.length);
    assert.equal(view.getBigUint64(0), BigInt(i + 2), "main revision, big-endian");
    assert.equal(rev[8], 0x5f); // '_' between main and sub revision
    const [key, value] = writes[i];
    assert.equal(rev.length, value === null ? 18 : 17, "a tombstone's revision ends with 't'");
    const f = decodeKeyValue(kv);
    assert.equal(dec.decode(f.get(1) as Uint8Array), key);
    if (value !== null) {
      assert.equal(dec.decode(f.get(5) as Uint8Array), value);
      assert.equal(f.get(3), BigInt(i + 2), "mod_revision");
    }
  });
  const index = db.bucket("meta")!.get("consistent_index")!;
  assert.equal(index.length, 8);
  assert.ok(new DataView(index.buffer, index.byteOffset, 8).getBigUint64(0) > 0n);
  const members = [...db.bucket("members")!.entries()];
  assert.equal(members.length, 1);
  const json = dec.decode(members[0][1]);
  assert.deepEqual(JSON.parse(json).peerURLs, [`http://${IP}:2380`]);
  // The id is a u64, past JSON numbers' exact range: take its digits from the text.
  const id = BigInt(json.match(/"id":(\d+)/)![1]);
  assert.equal(dec.decode(members[0][0]), id.toString(16));
  assert.equal(dec.decode(db.bucket("cluster")!.get("clusterVersion")!), "3.4.0");
}

async function snapshotStatus(path: string): Promise<Record<string, number>> {
  const r = await run("etcdctl", ["snapshot", "status", path, "-w", "json"], {
    env: { ETCDCTL_API: "3" },
  });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

itest(
  "etcd 3.4's backend and snapshot read through our reader; etcd restores our copy",
  async () => {
    await assertPortsFree(IP, [2379, 2380]);
    await assertPortsFree(RESTORED_IP, [2379, 2380]);
    const dir = tempDir({ prefix: "bbolt-etcd-" }).path;
    const endpoint = `http://${IP}:2379`;
    try {
      const etcd = await startReadyEtcd(singleMemberFlags("bbolt0", IP, `${dir}/data`));
      try {
        for (const [key, value] of writes) {
          const r = await etcdctl(
            endpoint,
            ...(value === null ? ["del", key] : ["put", key, value]),
          );
          assert.equal(r.code, 0, r.stderr);
        }
        const r = await etcdctl(endpoint, "snapshot", "save", `${dir}/snap.db`);
        assert.equal(r.code, 0, r.stderr);
      } finally {
        await stop(etcd);
      }

      const backend = openDbFile(`${dir}/data/member/snap/db`);
      checkBackend(backend);

      // A snapshot is the backend file followed by the SHA-256 of it.
      const snap = Deno.readFileSync(`${dir}/snap.db`);
      const body = snap.subarray(0, snap.length - 32);
      const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
      assert.deepEqual(snap.subarray(snap.length - 32), sum);
      const fromSnap = openDb(snap);
      assert.equal(body.length, fromSnap.meta.pgid * fromSnap.pageSize);
      checkBackend(fromSnap);

      // Our copy of the backend: same content for bbolt and for etcdctl's snapshot status.
      const copy = `${dir}/copy.db`;
      const file = Deno.openSync(copy, { write: true, create: true, truncate: true });
      await compactDb(backend, fileSink(file));
      file.close();
      assert.deepEqual(await bboltOk("check", copy), ["OK"]);
      assert.deepEqual(await bboltOk("dump", copy), readerDump(backend));
      backend.close();
      const want = await snapshotStatus(`${dir}/data/member/snap/db`);
      const got = await snapshotStatus(copy);
      assert.deepEqual([got.hash, got.revision, got.totalKey], [
        want.hash,
        want.revision,
        want.totalKey,
      ]);

      const restore = await run("etcdctl", [
        "snapshot",
        "restore",
        copy,
        "--skip-hash-check", // a copy of a backend carries no hash, as etcdctl's help says
        "--data-dir",
        `${dir}/restored`,
        "--name",
        "bbolt1",
        "--initial-cluster",
        `bbolt1=http://${RESTORED_IP}:2380`,
        "--initial-advertise-peer-urls",
        `http://${RESTORED_IP}:2380`,
      ], { env: { ETCDCTL_API: "3" } });
      assert.equal(restore.code, 0, restore.stderr);
      const restored = await startReadyEtcd(
        singleMemberFlags("bbolt1", RESTORED_IP, `${dir}/restored`),
      );
      try {
        const r = await etcdctl(`http://${RESTORED_IP}:2379`, "get", "--prefix", "");
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(r.stdout.trim().split("\n"), ["foo", "baz", "hello", "world"]);
      } finally {
        await stop(restored);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);
