// Lease checkpoints in the lessor: what the primary schedules and hands to its checkpointer, what
// an applied checkpoint changes, and how a promotion resumes from it (etcd 3.4.23's lessor).
import assert from "node:assert/strict";
import {
  createLessor,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  type LeaseCheckpoint,
  type LeasePersistence,
} from "../../src/lease/mod.ts";

interface Saved {
  ttl: number;
  remainingTTL?: number;
}

function setup(
  opts: { intervalMs?: number; persist?: boolean; checkpoints?: boolean } = {},
  saved = new Map<bigint, Saved>(),
) {
  const clock = { t: 1_000_000 };
  const persistence: LeasePersistence = {
    saveLease: (id, ttl, remainingTTL) => void saved.set(id, { ttl, remainingTTL }),
    deleteLease: (id) => void saved.delete(id),
    loadLeases: () => [...saved].map(([id, s]) => ({ id, ...s })),
  };
  const lessor = createLessor({ minTTL: 2, now: () => clock.t, persistence });
  const proposed: LeaseCheckpoint[][] = [];
  if (opts.checkpoints !== false) {
    lessor.setCheckpointer((cps) => proposed.push(cps), {
      intervalMs: opts.intervalMs,
      persist: opts.persist,
    });
  }
  /** What Raft would do with the proposals: apply each batch on this lessor. */
  const commit = () => {
    for (const cps of proposed.splice(0)) {
      for (const c of cps) lessor.checkpoint(c.ID, c.remainingTTL);
    }
  };
  return { lessor, clock, saved, proposed, commit };
}

const ttlOf = (l: ReturnType<typeof setup>["lessor"], id: bigint) => l.timeToLive(id, false).TTL;

Deno.test("the primary checkpoints a lease one interval after granting it", () => {
  const { lessor, clock, proposed } = setup({ intervalMs: 10_000 });
  lessor.promote(0);
  lessor.grant(1n, 60);
  clock.t += 9_999;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, []);
  clock.t += 1;
  lessor.checkpointScheduled();
  // 50 s are left; etcd rounds the remaining time up to whole seconds.
  assert.deepEqual(proposed, [[{ ID: 1n, remainingTTL: 50 }]]);
  lessor.checkpointScheduled();
  assert.equal(proposed.length, 1, "each scheduled checkpoint is handed out once");
});

Deno.test("a new primary resumes a checkpointed lease from its remaining TTL", () => {
  const { lessor, clock, commit } = setup({ intervalMs: 10_000 });
  lessor.promote(0);
  lessor.grant(1n, 60);
  lessor.grant(2n, 60);
  clock.t += 10_500;
  lessor.checkpointScheduled();
  commit();
  lessor.demote();
  assert.equal(ttlOf(lessor, 1n) > 1e9, true, "a follower holds leases forever");
  clock.t += 3_000;
  lessor.promote(1_000);
  // Checkpointed at 50 s (49.5 rounded up): 50 s plus the election timeout from the promotion.
  assert.equal(ttlOf(lessor, 1n), 51);
  assert.equal(ttlOf(lessor, 2n), 51);
});

Deno.test("without a checkpointer nothing is scheduled and promotion gives the full TTL", () => {
  const { lessor, clock, proposed } = setup({ checkpoints: false });
  lessor.promote(0);
  lessor.grant(1n, 600);
  clock.t += DEFAULT_CHECKPOINT_INTERVAL_MS + 1;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, []);
  assert.equal(lessor.renewalCheckpoint(1n), undefined);
  lessor.demote();
  lessor.promote(1_000);
  assert.equal(ttlOf(lessor, 1n), 601);
});

Deno.test("etcd's default interval: only leases longer than 5 minutes are checkpointed", () => {
  const { lessor, clock, proposed } = setup();
  lessor.promote(0);
  lessor.grant(1n, 60);
  lessor.grant(2n, 300);
  lessor.grant(3n, 301);
  clock.t += DEFAULT_CHECKPOINT_INTERVAL_MS;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, [[{ ID: 3n, remainingTTL: 1 }]]);
});

Deno.test("due checkpoints skip revoked, expired and still-full leases", () => {
  const { lessor, clock, proposed } = setup({ intervalMs: 5_000 });
  lessor.promote(0);
  lessor.grant(1n, 10);
  lessor.grant(2n, 10);
  lessor.grant(3n, 6);
  lessor.revoke(2n);
  // Renewed as its checkpoint comes due: the remaining TTL is the full TTL again.
  clock.t += 5_000;
  lessor.renew(1n);
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, [[{ ID: 3n, remainingTTL: 1 }]]);
  proposed.length = 0;
  lessor.grant(4n, 6);
  clock.t += 7_000;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, [], "lease 4 expired before its checkpoint came due");
});

Deno.test("an applied checkpoint on the primary schedules the next one", () => {
  const { lessor, clock, proposed, commit } = setup({ intervalMs: 10_000 });
  lessor.promote(0);
  lessor.grant(1n, 35);
  clock.t += 10_000;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, [[{ ID: 1n, remainingTTL: 25 }]]);
  commit();
  clock.t += 10_000;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, [[{ ID: 1n, remainingTTL: 15 }]]);
  commit();
  // 15 s were recorded, barely more than the interval: one more, then none.
  clock.t += 10_000;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, [[{ ID: 1n, remainingTTL: 5 }]]);
  commit();
  clock.t += 10_000;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, []);
});

Deno.test("a keep-alive of a checkpointed lease first clears its checkpoint", () => {
  const { lessor, clock, proposed, commit } = setup({ intervalMs: 10_000 });
  lessor.promote(0);
  lessor.grant(1n, 60);
  assert.equal(lessor.renewalCheckpoint(1n), undefined, "nothing recorded yet");
  clock.t += 10_000;
  lessor.checkpointScheduled();
  commit();
  assert.deepEqual(lessor.renewalCheckpoint(1n), { ID: 1n, remainingTTL: 0 });
  lessor.checkpoint(1n, 0);
  assert.equal(lessor.renewalCheckpoint(1n), undefined);
  assert.equal(lessor.renew(1n), 60);
  assert.equal(ttlOf(lessor, 1n), 60);
  // Cleared, a later leader starts the lease from its full TTL again.
  lessor.demote();
  lessor.promote(0);
  assert.equal(ttlOf(lessor, 1n), 60);
  assert.deepEqual(proposed, []);
  assert.equal(lessor.renewalCheckpoint(99n), undefined, "unknown lease");
  lessor.demote();
  assert.equal(lessor.renewalCheckpoint(1n), undefined, "not the primary");
});

Deno.test("followers record checkpoints but never schedule or hand any out", () => {
  const { lessor, clock, proposed } = setup({ intervalMs: 10_000 });
  lessor.grant(1n, 60);
  lessor.checkpoint(1n, 20);
  lessor.checkpoint(42n, 20); // revoked meanwhile: ignored, as etcd does
  clock.t += 60_000;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, []);
  lessor.promote(0);
  assert.equal(ttlOf(lessor, 1n), 20);
});

Deno.test("demotion drops the schedule", () => {
  const { lessor, clock, proposed } = setup({ intervalMs: 10_000 });
  lessor.promote(0);
  lessor.grant(1n, 60);
  lessor.demote();
  clock.t += 10_000;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed, []);
});

Deno.test("checkpoints persist with the lease only when asked to", () => {
  for (const persist of [false, true]) {
    const { lessor, clock, saved, commit } = setup({ intervalMs: 10_000, persist });
    lessor.promote(0);
    lessor.grant(1n, 60);
    assert.deepEqual(saved.get(1n), { ttl: 60, remainingTTL: 0 });
    clock.t += 10_000;
    lessor.checkpointScheduled();
    commit();
    assert.deepEqual(saved.get(1n), { ttl: 60, remainingTTL: persist ? 50 : 0 });
    // A restart (or a snapshot) reloads the table: a persisted checkpoint survives it.
    const after = setup({ intervalMs: 10_000, persist }, saved);
    after.lessor.promote(0);
    assert.equal(ttlOf(after.lessor, 1n), persist ? 50 : 60);
  }
});

Deno.test("due checkpoints go out in batches of 1000", () => {
  const { lessor, clock, proposed } = setup({ intervalMs: 1_000 });
  lessor.promote(0);
  for (let i = 1; i <= 1500; i++) lessor.grant(BigInt(i), 10);
  clock.t += 1_000;
  lessor.checkpointScheduled();
  assert.deepEqual(proposed.map((b) => b.length), [1000, 500]);
  assert.ok(proposed.flat().every((c) => c.remainingTTL === 9));
});
