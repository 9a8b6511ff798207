// Fail-stop in a cluster: a member whose data dir holds an older log than the cluster remembers
// it had stops on the leader's first heartbeat with raft's panic, as etcd 3.4 does, and persists
// nothing after it; failpoints while a snapshot is sent and received and in a leader transfer
// stop (or, for a failed upload, only delay) the members they hit. Address block 127.0.200.x.
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import {
  type Cluster,
  localKeyCount,
  makeCluster,
  readyAll,
  writeBeyondCatchUp,
} from "../helpers/cluster.ts";
import { etcdctl, memberList } from "../helpers/etcdctl.ts";
import { setFailpoint } from "../helpers/failpoints.ts";
import { sleep } from "../helpers/wait.ts";
import { exited, itest, type Proc, stop } from "../helpers/process.ts";

const BLOCK = "127.0.200";

/** Every file under `dir`, path -> bytes. */
function snapshotFiles(dir: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) walk(p);
      else out.set(p, Deno.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/**
 * The data dir holds what it held: the same files with the same bytes, but for the SQLite WAL
 * file opening the backend creates, which must hold no frame (32 bytes of header at most).
 */
function assertSameFiles(before: Map<string, Uint8Array>, dir: string, what: string): void {
  const after = snapshotFiles(dir);
  const sqliteWal = [...after.keys()].filter((p) => p.endsWith("/db-wal") && !before.has(p));
  for (const p of sqliteWal) {
    assert.ok(after.get(p)!.length <= 32, `${what}: ${p} holds frames`);
    after.delete(p);
  }
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), `${what}: files`);
  for (const [p, bytes] of before) assert.deepEqual(after.get(p), bytes, `${what}: ${p} changed`);
}

async function ready(c: Cluster, i: number): Promise<Proc> {
  const p = c.start(i);
  await p.waitFor("ready to serve client requests", 30_000);
  return p;
}

/** The member's applied revision, read from it alone (serializable). */
async function serializableGet(c: Cluster, i: number, key: string): Promise<string | null> {
  const client = new Etcd3({ hosts: c.members[i].clientURL });
  try {
    return await client.get(key).serializable(true).string();
  } finally {
    client.close();
  }
}

itest(
  "a member restarted on an older copy of its log panics in raft (tocommit out of range), exit 2",
  async () => {
    const c = await makeCluster(BLOCK, 3);
    try {
      for (let i = 0; i < 3; i++) c.start(i);
      await readyAll(c);
      const { member: leader } = await c.leader();
      const f = c.members.findIndex((m) => m !== leader);
      const follower = c.members[f];
      const client = new Etcd3({ hosts: leader.clientURL });
      try {
        await client.put("k0").value("v");
        // The copy: the follower's log as it was before the writes below.
        await stop(follower.proc!);
        const old = `${follower.dataDir}.old`;
        await Deno.mkdir(old);
        await new Deno.Command("cp", { args: ["-a", `${follower.dataDir}/.`, old] }).output();
        await ready(c, f);
        for (let i = 1; i <= 30; i++) await client.put(`k${i}`).value("v");
        while (await serializableGet(c, f, "k30") !== "v") {
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        client.close();
      }
      await stop(follower.proc!);
      await Deno.remove(follower.dataDir, { recursive: true });
      await Deno.rename(`${follower.dataDir}.old`, follower.dataDir);
      const before = snapshotFiles(follower.dataDir);

      const p = c.start(f);
      const status = await exited(p);
      const log = p.lines.join("\n");
      assert.equal(status.code, 2, log);
      const line = p.lines.find((l) => / C \| raft: tocommit\(\d+\)/.test(l));
      assert.ok(line, `no raft panic line:\n${log}`);
      console.log(`  ${line}`);
      const m =
        /tocommit\((\d+)\) is out of range \[lastIndex\((\d+)\)\]\. Was the raft log corrupted, truncated, or lost\?$/
          .exec(line!);
      assert.ok(m, line);
      assert.ok(Number(m[1]) > Number(m[2]), line);
      assert.ok(p.lines.includes(`panic: ${line!.split(" C | raft: ")[1]}`), log);
      assert.ok(!p.lines.some((l) => l.includes("ready to serve client requests")), log);
      // The step that panicked had moved the member to the leader's term: none of it is on disk.
      assertSameFiles(before, follower.dataDir, "after the panic");

      // Nothing was persisted, so it panics again the same way; zap words it as etcd's does.
      const again = c.start(f, ["--logger", "zap"]);
      assert.equal((await exited(again)).code, 2, again.lines.join("\n"));
      const entry = again.lines.map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return undefined;
        }
      }).find((j) => j?.level === "panic");
      assert.ok(entry, again.lines.join("\n"));
      assert.equal(entry.msg, line!.split(" C | raft: ")[1]);
      assert.match(entry.caller, /^raft\/log\.ts:\d+$/);
      assert.ok(again.lines.includes(`panic: ${entry.msg}`));
      assertSameFiles(before, follower.dataDir, "after the second panic");
    } finally {
      await c.stopAll();
    }
  },
);

/** gofail's endpoint of member `i` (GOFAIL_HTTP on its own address). */
const gofailOf = (c: Cluster, i: number) => `${c.members[i].ip}:22381`;

function startWithFailpoints(c: Cluster, i: number, failpoints = ""): Proc {
  return c.start(i, ["--snapshot-count", "500"], {
    GOFAIL_HTTP: gofailOf(c, i),
    GOFAIL_FAILPOINTS: failpoints,
  });
}

itest(
  "snapshots: a failed upload is retried; a follower dying as it takes one recovers",
  async () => {
    const c = await makeCluster(BLOCK, 3);
    try {
      for (let i = 0; i < 3; i++) startWithFailpoints(c, i);
      await readyAll(c);
      const { member: leader } = await c.leader();
      const l = c.members.indexOf(leader);
      const f = c.members.findIndex((m) => m !== leader);
      await stop(c.members[f].proc!);
      c.members[f].proc = undefined;
      await writeBeyondCatchUp(c.members.filter((m) => m.proc).map((m) => m.clientURL));

      // The follower dies taking the snapshot: nothing of it is applied.
      await setFailpoint(gofailOf(c, l), "raftBeforeSendSnapshot", `1*return("upload cut")`);
      const dying = startWithFailpoints(c, f, "raftBeforeReceiveSnapshot=panic");
      assert.equal((await exited(dying, 60_000)).code, 2, dying.lines.slice(-20).join("\n"));
      assert.ok(dying.lines.includes("panic: failpoint panic: raftBeforeReceiveSnapshot"));
      assert.ok(!dying.lines.some((l) => l.includes("applying snapshot")));
      // The leader's first upload failed (the failpoint), and it tried again.
      await leader.proc!.waitFor(
        /failed to be sent out \(failpoint raftBeforeSendSnapshot: upload cut\)$/,
      );

      // It dies with the snapshot saved but its hard state not (etcd's #10219: the restart must
      // not start from that snapshot), then with both saved but the backend not replaced by the
      // snapshot's (the restart must put it in place: etcd's recoverSnapshotBackend).
      for (const fp of ["raftAfterSaveSnap", "raftBeforeApplySnap"]) {
        const saved = startWithFailpoints(c, f, `${fp}=panic`);
        assert.equal((await exited(saved, 60_000)).code, 2, saved.lines.slice(-20).join("\n"));
        assert.ok(saved.lines.includes(`panic: failpoint panic: ${fp}`));
      }

      const back = startWithFailpoints(c, f);
      await back.waitFor(/I \| etcdserver: recovering backend from snapshot at index \d+/);
      await back.waitFor("ready to serve client requests", 60_000);
      // Caught up: every key the leader has, read from the member's own backend.
      let count = 0;
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(200)) {
        if ((count = await localKeyCount(c.members[f])) === 6000) break;
      }
      assert.equal(count, 6000, back.lines.slice(-20).join("\n"));
    } finally {
      await c.stopAll();
    }
  },
);

itest(
  "a leader that panics handing over leadership stops; the others elect and serve",
  async () => {
    const c = await makeCluster(BLOCK, 3);
    try {
      for (let i = 0; i < 3; i++) startWithFailpoints(c, i);
      await readyAll(c);
      const { member: leader, term } = await c.leader();
      const l = c.members.indexOf(leader);
      const target = c.members.find((m) => m !== leader)!;
      const { members } = await memberList(leader.clientURL);
      const targetId = members.find((m) => m.name === target.name)!.ID.toString(16);
      assert.equal((await etcdctl(leader.clientURL, "put", "before", "1")).stdout, "OK\n");
      await setFailpoint(gofailOf(c, l), "beforeTransferLeadership", "panic");
      const move = etcdctl(leader.clientURL, "move-leader", targetId);
      assert.equal((await exited(leader.proc!)).code, 2, leader.proc!.lines.slice(-20).join("\n"));
      assert.ok(leader.proc!.lines.includes("panic: failpoint panic: beforeTransferLeadership"));
      assert.notEqual((await move).code, 0);
      leader.proc = undefined;
      await c.leader(term);
      const others = c.members.filter((m) => m.proc).map((m) => m.clientURL).join(",");
      assert.equal((await etcdctl(others, "put", "after", "1")).stdout, "OK\n");
      assert.equal((await etcdctl(others, "get", "before", "--print-value-only")).stdout, "1\n");
    } finally {
      await c.stopAll();
    }
  },
);
