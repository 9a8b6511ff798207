// Under tests/integration because a member's raft snapshot is SQLite's VACUUM INTO, which
// Deno's node:sqlite allows (ATTACH) only with every permission; test:unit runs without.
import assert from "node:assert/strict";
import { Cluster, Trace } from "../../sim/member/cluster.ts";
import type { MemberSettings } from "../../sim/member/member.ts";
import { RaftWatch } from "../../sim/member/raft_watch.ts";
import { report } from "../../sim/member/run.ts";
import { simulateMembers } from "../../sim/member/simulate.ts";
import { Client, Leases, workloadEnv } from "../../sim/member/workload.ts";
import type { Operation } from "../../robustness/mod.ts";

/** Runs whole-member seeds (the quick profile); fails with each failing seed's report. */
async function runSeeds(from: number, count: number): Promise<void> {
  const failures: string[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const r = await simulateMembers({ seed, quick: true });
    if (!r.ok) failures.push(report(r).slice(0, 40).join("\n"));
  }
  assert.deepEqual(failures, []);
}

// 1,000 seeds in every run, in four parts so a failure names its range early.
for (let part = 0; part < 4; part++) {
  const from = 1 + part * 250;
  Deno.test(`whole-member simulation: seeds ${from}-${from + 249}`, () => runSeeds(from, 250));
}

Deno.test("whole-member simulation: a seed replays exactly", async () => {
  const a = await simulateMembers({ seed: 77, quick: true });
  const b = await simulateMembers({ seed: 77, quick: true });
  assert.equal(a.traceHash, b.traceHash);
  assert.deepEqual(a.trace, b.trace);
  assert.deepEqual(a.stats, { ...b.stats, checkerMs: a.stats.checkerMs });
  // The seed reaches faults and acknowledged writes (a change may move it; it must not idle).
  assert.ok(a.stats.acknowledged > 0 && Object.keys(a.stats.faults).length > 0);
});

Deno.test("whole-member simulation: a different seed takes a different course", async () => {
  const a = await simulateMembers({ seed: 78, quick: true });
  const b = await simulateMembers({ seed: 79, quick: true });
  assert.notEqual(a.traceHash, b.traceHash);
});

// A WAL that acknowledges what it never fsyncs loses writes in power cuts: the simulation must
// say so, or its checks prove nothing.
Deno.test("whole-member simulation: a log that skips its fsyncs is caught", async () => {
  let caught: string[] = [];
  for (let seed = 1; seed <= 40 && caught.length === 0; seed++) {
    const r = await simulateMembers({
      seed,
      quick: true,
      tamper: (state) => {
        const save = state.wal.save.bind(state.wal);
        state.wal.save = (hardState, entries) => save(hardState, entries, false);
      },
    });
    caught = r.violations;
  }
  assert.ok(caught.length > 0, "no seed found the unsynced log");
});

const settings: MemberSettings = {
  heartbeatMs: 100,
  electionMs: 1000,
  snapshotCount: 5,
  snapshotCatchUpEntries: 2,
  logLevel: "info",
};

/** Runs virtual time until `p` settles (at most `ms`); returns its value. */
async function drive<T>(c: Cluster, p: Promise<T>, ms = 10_000): Promise<T> {
  let done = false;
  p.finally(() => done = true).catch(() => {});
  assert.ok(await c.time.run(c.time.now + ms, () => done), "timed out in virtual time");
  return await p;
}

/** A started three-member cluster with one client that has had 20 puts acknowledged. */
async function startedCluster(seed: number, history: Operation[]) {
  const c = new Cluster(seed, new Trace(), settings);
  c.install();
  c.bootstrap(3);
  assert.ok(await c.time.run(10_000, () => c.members.every((m) => m.published)));
  const client = new Client(1, workloadEnv(c, history), new Leases());
  for (let i = 0; i < 20; i++) {
    const outcome = await drive(
      c,
      client.send(c.leader()!, { type: "put", key: "a", value: `${i}` }),
    );
    assert.equal(outcome.status, "ok");
  }
  return { c, client };
}

// A member that joined and installed the leader's snapshot lost power at once. Its backend had
// been written without an fsync: the restart found a torn database and refused to start.
Deno.test("whole-member simulation: a power cut right after installing a leader's snapshot", async () => {
  const watch = new RaftWatch();
  const { c } = await startedCluster(4242, []);
  try {
    // etcd's strict reconfiguration check: the voters connected for its 5 s health interval.
    await c.time.run(c.time.now + 5_000);
    assert.ok(await drive(c, c.addMember()));
    const joined = c.members.at(-1)!;
    assert.ok(await c.time.run(c.time.now + 10_000, () => joined.published));
    assert.ok(c.net.snapshots > 0, "the new member got no snapshot");
    joined.crash("power", "prefix", "torn");
    assert.ok(await drive(c, joined.start({ kind: "restart" })), joined.exitReason);
    assert.ok(await c.time.run(c.time.now + 10_000, () => joined.published));
    assert.ok(watch.observe(c.nodes()), watch.violations.join());
    assert.deepEqual(c.violations, []);
  } finally {
    c.close();
  }
});

// SQLite refusing the batch commit (a full disk) stops the member with etcd's fatal line; the
// restart replays the log, so the puts it had acknowledged are all there.
Deno.test("whole-member simulation: a full disk at the backend's commit stops the member", async () => {
  const history: Operation[] = [];
  const { c, client } = await startedCluster(4343, history);
  try {
    const leader = c.leader()!;
    c.failNextCommit(leader);
    const put = client.send(leader, { type: "put", key: "a", value: "after" });
    assert.ok(await c.time.run(c.time.now + 10_000, () => leader.status === "down"));
    assert.match(
      leader.exitReason ?? "",
      /^exit 1: .*cannot commit tx \(database or disk is full\)/,
    );
    const last = await drive(c, put);
    assert.ok(await drive(c, leader.start({ kind: "restart" })), leader.exitReason);
    assert.ok(await c.time.run(c.time.now + 10_000, () => leader.published));
    const read = await drive(c, client.send(leader, { type: "range", key: "a" }));
    assert.ok(read.status === "ok" && read.result.type === "range");
    // An acknowledged put is there; one the client never heard about may or may not be.
    const value = read.result.kvs[0]?.value;
    if (last.status === "ok") assert.equal(value, "after");
    else assert.ok(value === "19" || value === "after", `found ${value}`);
    assert.deepEqual(c.violations, []);
  } finally {
    c.close();
  }
});

// A follower that saved a leader's snapshot wrote the new commit index without an fsync (raft
// asks for none when only the commit moves); a power cut then left the snapshot's marker above
// the durable commit, the restart ignored it, and the leader's next heartbeat committed past the
// log's end: "tocommit(63) is out of range [lastIndex(24)]" (seed 105023 of the quick profile).
Deno.test("whole-member simulation: a power cut right after a follower saved a leader's snapshot", async () => {
  const { c } = await startedCluster(4444, []);
  try {
    // etcd's strict reconfiguration check: the voters connected for its 5 s health interval.
    await c.time.run(c.time.now + 5_000);
    assert.ok(await drive(c, c.addMember()));
    const joined = c.members.at(-1)!;
    const installed = () => (joined.state?.backend.store.consistentIndex() ?? 0) > 0;
    assert.ok(await c.time.run(c.time.now + 10_000, installed), "no snapshot installed");
    assert.ok(c.net.snapshots > 0, "the new member got no snapshot");
    joined.crash("power", "none", "synced");
    assert.ok(await drive(c, joined.start({ kind: "restart" })), joined.exitReason);
    assert.ok(await c.time.run(c.time.now + 10_000, () => joined.published || !joined.alive));
    assert.ok(joined.alive, joined.exitReason);
    assert.deepEqual(c.violations, []);
  } finally {
    c.close();
  }
});
