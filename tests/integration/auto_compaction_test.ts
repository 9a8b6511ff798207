// --auto-compaction-mode/-retention and --experimental-compaction-batch-limit, side by side with
// a real etcd 3.4 given the same flags and the same writes: the compactor's log lines, the
// revision compacted (read back through etcdctl), that only the leader compacts, and the
// physical compaction's batches as etcd's metrics count them. (Revision mode compacts every
// 5 minutes; its schedule is tested against etcd's own unit tests in tests/server/.)
// Address block 127.0.140.x: single members on .1-.4, clusters on .10-.12 and .20-.22.
import assert from "node:assert/strict";
import { makeCluster } from "../helpers/cluster.ts";
import { itest, metricValue, type Proc } from "../helpers/process.ts";
import { startPair } from "../helpers/pair.ts";
import { etcdctl } from "../helpers/etcdctl.ts";

const BLOCK = "127.0.140";

async function put(endpoint: string, key: string, value: string): Promise<void> {
  const r = await etcdctl(endpoint, "put", key, value);
  assert.equal(r.code, 0, r.stderr);
}

/** The compactor's lines (text after the time), in order. */
const compactorLines = (p: Proc) =>
  p.lines.filter((l) => l.includes(" compactor: ")).map((l) => l.replace(/^\S+ \S+ /, ""));

itest(
  "periodic auto-compaction: etcd's lines, the revision `retention` old, read back through etcdctl",
  async () => {
    const pair = await startPair(`${BLOCK}.1`, `${BLOCK}.2`, () => [
      "--auto-compaction-retention=2s",
    ]);
    try {
      // Revisions 2..7; no writes after, so a compaction at 7 comes once 2 s have passed.
      for (const { url } of pair.members) {
        for (let i = 1; i <= 6; i++) await put(url, "k", `v${i}`);
      }
      const seen = [];
      for (const { proc, url: endpoint } of pair.members) {
        await proc.waitFor(/ N \| compactor: Finished auto-compaction at revision 7$/, 20_000);
        const lines = compactorLines(proc);
        // Each compaction: etcd's notice pair, at a revision never going back.
        let prev = 0;
        for (let i = 0; i < lines.length - 1; i += 2) {
          const rev = Number(
            /^N \| compactor: Starting auto-compaction at revision (\d+) \(retention: 2s\)$/
              .exec(lines[i])?.[1],
          );
          assert.ok(rev >= prev, `${lines[i]} after revision ${prev}`);
          assert.equal(lines[i + 1], `N | compactor: Finished auto-compaction at revision ${rev}`);
          prev = rev;
        }
        assert.ok(proc.lines.some((l) => / I \| mvcc: store\.index: compact 7$/.test(l)));
        // The physical compaction finishes in the background, after the compactor's line.
        await proc.waitFor(/ I \| mvcc: finished scheduled compaction at 7 \(took .+\)$/);
        const below = await etcdctl(endpoint, "get", "k", "--rev=6");
        const at = await etcdctl(endpoint, "get", "k", "--rev=7", "--print-value-only");
        const error = below.stderr.split("\n").find((l) => l.startsWith("Error:"));
        seen.push({ below: [below.code, error], at: [at.code, at.stdout.trim()] });
      }
      assert.deepEqual(seen[0], {
        below: [1, "Error: etcdserver: mvcc: required revision has been compacted"],
        at: [0, "v6"],
      });
      assert.deepEqual(seen[1], seen[0]);
    } finally {
      await pair.stop();
    }
  },
);

/** Who of a fresh three-member cluster logged compactions, once the leader compacted at 6. */
async function compactingMembers(etcd: boolean): Promise<{ leader: string; compacting: string[] }> {
  const cluster = await makeCluster(BLOCK, 3, "compaction", { etcd, firstHost: etcd ? 20 : 10 });
  try {
    for (let i = 0; i < 3; i++) {
      cluster.start(i, ["--auto-compaction-retention=3s", "--logger=zap"]);
    }
    const { member } = await cluster.leader();
    for (let i = 1; i <= 5; i++) await put(member.clientURL, `k${i}`, "v");
    await member.proc!.waitFor(
      (l) => l.includes('"msg":"completed auto periodic compaction","revision":6,'),
      20_000,
    );
    const compacting = cluster.members
      .filter((m) => m.proc!.lines.some((l) => l.includes("starting auto periodic compaction")))
      .map((m) => m.name);
    // The zap record, as etcd writes it (its `took` aside).
    const done = member.proc!.lines.find((l) =>
      l.includes('"msg":"completed auto periodic compaction","revision":6,')
    )!;
    const fields = JSON.parse(done);
    assert.deepEqual(
      {
        level: fields.level,
        msg: fields.msg,
        revision: fields.revision,
        period: fields["compact-period"],
      },
      { level: "info", msg: "completed auto periodic compaction", revision: 6, period: "3s" },
    );
    assert.match(fields.took, /^[\d.]+(ms|s|µs)$/);
    return { leader: member.name, compacting };
  } finally {
    await cluster.stopAll();
  }
}

itest("only the leader compacts (followers keep their compactor paused), as etcd", async () => {
  const etcd = await compactingMembers(true);
  const ours = await compactingMembers(false);
  assert.deepEqual(etcd.compacting, [etcd.leader]);
  assert.deepEqual(ours.compacting, [ours.leader]);
});

/** etcd's physical-compaction metrics on `endpoint`. */
async function compactionMetrics(endpoint: string) {
  const value = (name: string) =>
    metricValue(endpoint, `etcd_debugging_mvcc_db_compaction_${name}`);
  return {
    pauses: await value("pause_duration_milliseconds_count"),
    keys: await value("keys_total"),
    total: await value("total_duration_milliseconds_count"),
  };
}

itest(
  "--experimental-compaction-batch-limit: batches of that many revisions, as etcd's metrics count them",
  async () => {
    const pair = await startPair(`${BLOCK}.3`, `${BLOCK}.4`, () => [
      "--experimental-compaction-batch-limit=10",
    ]);
    try {
      const seen = [];
      for (const { url: endpoint } of pair.members) {
        // 25 revisions of one key (2..26): batches of 10, 10 and 5; 24 revisions removed.
        for (let i = 1; i <= 25; i++) await put(endpoint, "k", `${i}`);
        const r = await etcdctl(endpoint, "compact", "26", "--physical");
        assert.equal(r.stdout.trim(), "compacted revision 26");
        seen.push(await compactionMetrics(endpoint));
      }
      assert.deepEqual(seen[0], { pauses: 2, keys: 24, total: 1 });
      assert.deepEqual(seen[1], seen[0]);
    } finally {
      await pair.stop();
    }
  },
);
