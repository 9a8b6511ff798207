// Fail-stop in a cluster: a member whose data dir holds an older log than the cluster remembers
// it had stops on the leader's first heartbeat with raft's panic, as etcd 3.4 does, and persists
// nothing after it. Address block 127.0.200.x.
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import { type Cluster, makeCluster } from "../helpers/cluster.ts";
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
      await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
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
