// The rest of etcd's v3 API on one member, through etcdctl 3.4: watch, leases, members,
// maintenance. Address block 127.0.15.x.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { itest, singleMemberFlags, startReady, stop } from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl, spawnEtcdctl } from "../helpers/etcdctl.ts";

const IP = "127.0.15.1";
const EP = `http://${IP}:2379`;

async function withMember(fn: (dir: string) => Promise<void>, extra: string[] = []) {
  await assertPortsFree(IP, [2379, 2380]);
  const dir = tempDir().path;
  const m = await startReady([...singleMemberFlags("s1", IP, `${dir}/data`), ...extra]);
  try {
    await fn(dir);
  } finally {
    await stop(m);
  }
}

function watcher(...args: string[]) {
  return spawnEtcdctl(EP, ["watch", ...args]);
}

itest("watch: history, live events, prefix, prev-kv", async () => {
  await withMember(async () => {
    await etcdctl(EP, "put", "w/a", "1");
    await etcdctl(EP, "put", "w/b", "2");
    const history = watcher("w/a", "--rev", "1");
    const prefix = watcher("w/", "--prefix", "--prev-kv");
    try {
      await history.waitFor(/^1$/);
      // Live events reach both watchers once they are registered: etcdctl prints nothing
      // on creation, so write until the prefix watcher has seen the first live event.
      await etcdctl(EP, "put", "w/a", "3");
      await prefix.waitFor(/^3$/);
      await history.waitFor(/^3$/);
      await etcdctl(EP, "del", "w/b");
      await prefix.waitFor(/^DELETE$/);
      assert.deepEqual(history.stdout, ["PUT", "w/a", "1", "PUT", "w/a", "3"]);
      // --prev-kv prints the previous value before each event's key and value.
      assert.deepEqual(prefix.stdout, [
        "PUT",
        "w/a",
        "1",
        "w/a",
        "3",
        "DELETE",
        "w/b",
        "2",
        "w/b",
        "",
      ]);
    } finally {
      history.kill();
      prefix.kill();
      await Promise.all([history.status, prefix.status]);
    }
  });
});

itest("watch on a compacted revision is canceled with etcd's message", async () => {
  await withMember(async () => {
    for (let i = 0; i < 5; i++) await etcdctl(EP, "put", "c", String(i));
    await etcdctl(EP, "compaction", "4");
    const w = watcher("c", "--rev", "2");
    const status = await w.status;
    assert.notEqual(status.code, 0);
    assert.match(
      [...w.stdout, ...w.lines].join("\n"),
      /watch was canceled \(etcdserver: mvcc: required revision has been compacted\)/,
    );
  });
});

itest("leases: grant, attach, timetolive --keys, keep-alive, list, revoke, expiry", async () => {
  await withMember(async () => {
    const grant = await etcdctl(EP, "lease", "grant", "30");
    const id = grant.stdout.match(/^lease ([0-9a-f]+) granted with TTL\(30s\)$/m)?.[1];
    assert.ok(id, grant.stdout + grant.stderr);
    assert.equal((await etcdctl(EP, "put", "lk", "v", `--lease=${id}`)).stdout, "OK\n");
    const ttl = await etcdctl(EP, "lease", "timetolive", id, "--keys");
    assert.match(
      ttl.stdout,
      new RegExp(
        `^lease ${id} granted with TTL\\(30s\\), remaining\\(\\d+s\\), attached keys\\(\\[lk\\]\\)`,
      ),
    );
    const list = await etcdctl(EP, "lease", "list");
    assert.match(list.stdout, new RegExp(`found 1 leases\\n${id}\\n`));
    const once = await etcdctl(EP, "lease", "keep-alive", "--once", id);
    assert.match(once.stdout, new RegExp(`lease ${id} keepalived with TTL\\(30\\)`));
    assert.match(
      (await etcdctl(EP, "lease", "revoke", id)).stdout,
      new RegExp(`lease ${id} revoked`),
    );
    assert.equal((await etcdctl(EP, "get", "lk")).stdout, "");
    const again = await etcdctl(EP, "lease", "revoke", id);
    assert.match(
      again.stderr,
      /Error: failed to revoke lease \(etcdserver: requested lease not found\)/,
    );
    const unknown = await etcdctl(EP, "lease", "timetolive", "1234");
    assert.match(unknown.stdout, /lease 0000000000001234 already expired/);

    // A short lease expires on the leader and takes its key with it.
    const short = (await etcdctl(EP, "lease", "grant", "2")).stdout.match(/lease ([0-9a-f]+)/)![1];
    await etcdctl(EP, "put", "gone", "soon", `--lease=${short}`);
    const w = watcher("gone");
    try {
      await w.waitFor(/^DELETE$/, 10_000);
    } finally {
      w.kill();
      await w.status;
    }
    assert.equal((await etcdctl(EP, "get", "gone")).stdout, "");
  });
});

itest("member list, endpoint status and hashkv, alarms, defrag, snapshot save", async () => {
  await withMember(async (dir) => {
    const members = await etcdctl(EP, "member", "list");
    assert.match(
      members.stdout,
      new RegExp(`^[0-9a-f]+, started, s1, http://${IP}:2380, ${EP}, false\\n$`),
    );
    await etcdctl(EP, "put", "k", "v");

    const status = JSON.parse((await etcdctl(EP, "endpoint", "status", "-w", "json")).stdout);
    assert.equal(status[0].Endpoint, EP);
    assert.equal(status[0].Status.version, "3.4.23");
    assert.equal(status[0].Status.leader, status[0].Status.header.member_id);
    assert.ok(status[0].Status.dbSize > 0);
    assert.ok(status[0].Status.raftIndex >= status[0].Status.raftAppliedIndex - 0);

    const h1 = JSON.parse((await etcdctl(EP, "endpoint", "hashkv", "-w", "json")).stdout);
    const h2 = JSON.parse((await etcdctl(EP, "endpoint", "hashkv", "-w", "json")).stdout);
    assert.equal(h1[0].HashKV.hash, h2[0].HashKV.hash);
    await etcdctl(EP, "put", "k", "changed");
    const h3 = JSON.parse((await etcdctl(EP, "endpoint", "hashkv", "-w", "json")).stdout);
    assert.notEqual(h3[0].HashKV.hash, h1[0].HashKV.hash);

    assert.equal((await etcdctl(EP, "alarm", "list")).stdout, "");
    const defrag = await etcdctl(EP, "defrag");
    assert.match(defrag.stdout, new RegExp(`Finished defragmenting etcd member\\[${EP}\\]`));

    const file = `${dir}/snap.db`;
    const snap = await etcdctl(EP, "snapshot", "save", file);
    assert.equal(snap.code, 0, snap.stderr);
    assert.match(snap.stdout, new RegExp(`Snapshot saved at ${file}`));
    // etcd appends the SHA-256 of the database; tools verify it on restore.
    const bytes = Deno.readFileSync(file);
    const body = bytes.subarray(0, bytes.length - 32);
    const sum = createHash("sha256").update(body).digest();
    assert.deepEqual(new Uint8Array(sum), bytes.subarray(bytes.length - 32));
  });
});

itest("the NOSPACE alarm stops writes once the backend passes its quota, and disarms", async () => {
  await withMember(async () => {
    const value = "x".repeat(64 * 1024);
    let refused = "";
    for (let i = 0; i < 64 && !refused; i++) {
      const r = await etcdctl(EP, "put", `big${i}`, value);
      if (r.code !== 0) refused = r.stderr;
    }
    assert.match(refused, /etcdserver: mvcc: database space exceeded/);
    const alarms = await etcdctl(EP, "alarm", "list");
    assert.match(alarms.stdout, /^memberID:\d+ alarm:NOSPACE \n$/);
    const put = await etcdctl(EP, "put", "small", "1");
    assert.match(put.stderr, /database space exceeded/);
    // Reads still work while the alarm is raised.
    assert.equal((await etcdctl(EP, "get", "big0", "--keys-only")).stdout, "big0\n\n");
    await etcdctl(EP, "del", "big", "--prefix");
    await etcdctl(
      EP,
      "compaction",
      "--physical",
      (JSON.parse((await etcdctl(EP, "get", "x", "-w", "json")).stdout)).header.revision,
    );
    await etcdctl(EP, "defrag");
    assert.match((await etcdctl(EP, "alarm", "disarm")).stdout, /alarm:NOSPACE/);
    assert.equal((await etcdctl(EP, "put", "small", "1")).stdout, "OK\n");
  }, ["--quota-backend-bytes", String(1024 * 1024)]);
});
