import assert from "node:assert/strict";
import {
  createLessor,
  FOREVER_TTL_SECONDS,
  type LeasePersistence,
  type LessorConfig,
  MAX_LEASE_TTL,
  minLeaseTTL,
  newLeaseId,
} from "../../src/lease/mod.ts";
import { GrpcCode } from "../../src/errors/mod.ts";
import { LeaseError } from "../../src/lease/mod.ts";
import { toEtcdError } from "../../src/api/errors.ts";
import { prng } from "../helpers/random.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function fakePersistence(initial: { id: bigint; ttl: number }[] = []) {
  const saved = new Map(initial.map((l) => [l.id, l.ttl]));
  const p: LeasePersistence = {
    saveLease: (id, ttl) => void saved.set(id, ttl),
    deleteLease: (id) => void saved.delete(id),
    loadLeases: () => [...saved].map(([id, ttl]) => ({ id, ttl })),
  };
  return { p, saved };
}

function setup(opts: Partial<LessorConfig> = {}, initial: { id: bigint; ttl: number }[] = []) {
  const clock = { t: 1_000_000 };
  const { p, saved } = fakePersistence(initial);
  const lessor = createLessor({ minTTL: 2, now: () => clock.t, persistence: p, ...opts });
  return { lessor, clock, saved };
}

/** `fn` throws the lessor's own error, which etcd's clients see as `code` and `message`. */
function throwsEtcd(fn: () => unknown, code: GrpcCode, message: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LeaseError);
    const seen = toEtcdError(e);
    assert.equal(seen.code, code);
    assert.equal(seen.message, message);
    return true;
  });
}

Deno.test("grant stores the lease, raises short TTLs to the minimum and persists it", () => {
  const { lessor, saved } = setup();
  assert.deepEqual(lessor.grant(1n, 10).TTL, 10);
  assert.equal(lessor.grant(2n, 1).TTL, 2);
  assert.equal(lessor.grant(3n, -5).TTL, 2);
  assert.deepEqual([...saved], [[1n, 10], [2n, 2], [3n, 2]]);
  assert.equal(lessor.lookup(2n)?.TTL, 2);
  assert.equal(lessor.lookup(9n), undefined);
});

Deno.test("grant errors: existing ID, too large TTL, ID 0", () => {
  const { lessor, saved } = setup();
  lessor.grant(7n, 5);
  throwsEtcd(
    () => lessor.grant(7n, 5),
    GrpcCode.FailedPrecondition,
    "etcdserver: lease already exists",
  );
  throwsEtcd(
    () => lessor.grant(8n, MAX_LEASE_TTL + 1),
    GrpcCode.OutOfRange,
    "etcdserver: too large lease TTL",
  );
  assert.equal(lessor.grant(9n, MAX_LEASE_TTL).TTL, MAX_LEASE_TTL);
  throwsEtcd(() => lessor.grant(0n, 5), GrpcCode.NotFound, "etcdserver: requested lease not found");
  assert.deepEqual([...saved.keys()], [7n, 9n]);
});

Deno.test("revoke returns the attached keys sorted by bytes and forgets the lease", () => {
  const { lessor, saved } = setup();
  lessor.grant(1n, 10);
  lessor.grant(2n, 10);
  for (const k of ["b", "a", "\u00ff", "a\u0000"]) lessor.attach(1n, enc(k));
  lessor.attach(2n, enc("z"));
  assert.equal(lessor.leaseOf(enc("a")), 1n);
  const keys = lessor.revoke(1n).map((k) => [...k]);
  assert.deepEqual(keys, [[0x61], [0x61, 0], [0x62], [0xc3, 0xbf]]);
  assert.equal(lessor.lookup(1n), undefined);
  assert.equal(lessor.leaseOf(enc("a")), 0n);
  assert.equal(lessor.leaseOf(enc("z")), 2n);
  assert.deepEqual([...saved.keys()], [2n]);
  throwsEtcd(() => lessor.revoke(1n), GrpcCode.NotFound, "etcdserver: requested lease not found");
  // Deleting a revoked lease's keys detaches them from a lease that no longer exists.
  lessor.detach(1n, enc("a"));
});

Deno.test("attach moves a key between leases; detach removes it; unknown lease on attach", () => {
  const { lessor } = setup();
  lessor.grant(1n, 10);
  lessor.grant(2n, 10);
  lessor.attach(1n, enc("k"));
  lessor.attach(2n, enc("k"));
  assert.equal(lessor.leaseOf(enc("k")), 2n);
  assert.deepEqual(lessor.timeToLive(1n, true).keys, []);
  assert.deepEqual(lessor.timeToLive(2n, true).keys.map(dec), ["k"]);
  lessor.detach(1n, enc("k")); // not attached to 1: the index keeps 2
  assert.equal(lessor.leaseOf(enc("k")), 2n);
  lessor.detach(2n, enc("k"));
  assert.equal(lessor.leaseOf(enc("k")), 0n);
  throwsEtcd(
    () => lessor.attach(3n, enc("k")),
    GrpcCode.NotFound,
    "etcdserver: requested lease not found",
  );
});

Deno.test("timeToLive: remaining seconds truncated on the leader, forever on a follower", () => {
  const { lessor, clock } = setup();
  lessor.grant(1n, 10); // follower: no expiry
  lessor.attach(1n, enc("x"));
  assert.deepEqual(lessor.timeToLive(1n, false), {
    ID: 1n,
    TTL: FOREVER_TTL_SECONDS,
    grantedTTL: 10,
    keys: [],
  });
  lessor.promote(0);
  assert.equal(lessor.timeToLive(1n, false).TTL, 10);
  clock.t += 1;
  assert.equal(lessor.timeToLive(1n, false).TTL, 9); // etcdctl shows 9s right after a grant
  clock.t += 8_500;
  assert.equal(lessor.timeToLive(1n, true).TTL, 1);
  assert.deepEqual(lessor.timeToLive(1n, true).keys.map(dec), ["x"]);
  assert.deepEqual(lessor.timeToLive(42n, true), { ID: 42n, TTL: -1, grantedTTL: 0, keys: [] });
});

Deno.test("leases are listed by remaining time, ties by ID", () => {
  const { lessor, clock } = setup();
  for (const id of [5n, 3n, 9n]) lessor.grant(id, 10);
  assert.deepEqual(lessor.leases(), [3n, 5n, 9n]); // follower: all forever
  lessor.promote(0);
  lessor.grant(1n, 100);
  clock.t += 1000;
  lessor.renew(9n);
  lessor.grant(7n, 5);
  assert.deepEqual(lessor.leases(), [7n, 3n, 5n, 9n, 1n]);
});

Deno.test("renew: leader only; refreshes expiry; unknown and expired leases are not found", () => {
  const { lessor, clock } = setup();
  lessor.grant(1n, 10);
  throwsEtcd(() => lessor.renew(1n), GrpcCode.FailedPrecondition, "etcdserver: not leader");
  lessor.promote(0);
  clock.t += 6_000;
  assert.equal(lessor.renew(1n), 10);
  assert.equal(lessor.timeToLive(1n, false).TTL, 10);
  clock.t += 9_999;
  assert.deepEqual(lessor.expired(), []);
  clock.t += 1;
  throwsEtcd(() => lessor.renew(1n), GrpcCode.NotFound, "etcdserver: requested lease not found");
  throwsEtcd(() => lessor.renew(2n), GrpcCode.NotFound, "etcdserver: requested lease not found");
});

Deno.test("expired: leader only, in expiry order, limited, retried after the interval", () => {
  const { lessor, clock } = setup({ expiredRetryIntervalMs: 3000 });
  lessor.promote(0);
  lessor.grant(1n, 30);
  lessor.grant(2n, 10);
  lessor.grant(3n, 20);
  lessor.grant(4n, 10);
  assert.deepEqual(lessor.expired(), []);
  clock.t += 20_000;
  assert.deepEqual(lessor.expired(2), [2n, 4n]);
  assert.deepEqual(lessor.expired(), [3n]);
  assert.deepEqual(lessor.expired(), []); // handed out; waits for the revoke to apply
  lessor.revoke(2n);
  clock.t += 3_000;
  assert.deepEqual(lessor.expired(), [3n, 4n]); // proposals lost: handed out again
  lessor.demote();
  clock.t += 60_000;
  assert.deepEqual(lessor.expired(), []);
});

Deno.test("promote resets expiries to now + TTL + extend; demote makes them forever", () => {
  const { lessor, clock } = setup();
  lessor.grant(1n, 5);
  lessor.grant(2n, 8);
  assert.equal(lessor.lookup(1n)?.expiry, Infinity);
  lessor.promote(1_000);
  assert.equal(lessor.lookup(1n)?.expiry, clock.t + 6_000);
  assert.equal(lessor.lookup(2n)?.expiry, clock.t + 9_000);
  clock.t += 5_000;
  lessor.renew(1n); // renew does not add the extension
  assert.equal(lessor.lookup(1n)?.expiry, clock.t + 5_000);
  lessor.demote();
  assert.equal(lessor.lookup(1n)?.expiry, Infinity);
  assert.equal(lessor.isPrimary(), false);
  clock.t += 100_000;
  lessor.promote(1_000);
  assert.equal(lessor.lookup(2n)?.expiry, clock.t + 9_000);
  clock.t += 5_999;
  assert.deepEqual(lessor.expired(), []);
  clock.t += 1;
  assert.deepEqual(lessor.expired(), [1n]);
});

Deno.test("a new lessor restores leases from persistence without expiry until promoted", () => {
  const { p, saved } = fakePersistence([{ id: 11n, ttl: 60 }, { id: 12n, ttl: 1 }]);
  const clock = { t: 5_000 };
  const lessor = createLessor({ minTTL: 3, now: () => clock.t, persistence: p });
  assert.deepEqual(lessor.leases(), [11n, 12n]);
  assert.equal(lessor.lookup(12n)?.TTL, 3); // raised to the current minimum
  assert.equal(lessor.lookup(11n)?.expiry, Infinity);
  clock.t += 1_000_000;
  assert.deepEqual(lessor.expired(), []);
  lessor.promote(1_000);
  assert.equal(lessor.timeToLive(11n, false).TTL, 61);
  // Keys come back from the key space: the server re-attaches them.
  lessor.attach(11n, enc("k"));
  lessor.grant(13n, 5);
  assert.deepEqual([...saved.keys()].sort(), [11n, 12n, 13n]);
  // restore() (backend replaced by a snapshot) reloads and drops in-memory state.
  saved.delete(13n);
  lessor.restore();
  assert.equal(lessor.lookup(13n), undefined);
  assert.equal(lessor.leaseOf(enc("k")), 0n);
  assert.equal(lessor.lookup(11n)?.expiry, Infinity);
});

Deno.test("grant on the leader starts the expiry; grant on a follower does not", () => {
  const { lessor, clock } = setup();
  lessor.grant(1n, 4);
  lessor.promote(0);
  lessor.grant(2n, 4);
  assert.equal(lessor.lookup(2n)?.expiry, clock.t + 4_000);
  clock.t += 4_000;
  assert.deepEqual(lessor.expired(), [1n, 2n]);
});

Deno.test("promote spreads a pile-up of expiries over time", () => {
  const { lessor, clock } = setup();
  for (let i = 1; i <= 3000; i++) lessor.grant(BigInt(i), 10);
  lessor.promote(0);
  const start = clock.t;
  const perSecond = new Map<number, number>();
  for (const id of lessor.leases()) {
    const at = lessor.lookup(id)!.expiry;
    assert.ok(at >= start + 10_000);
    const sec = Math.floor((at - start - 10_000) / 1000);
    perSecond.set(sec, (perSecond.get(sec) ?? 0) + 1);
  }
  for (const n of perSecond.values()) assert.ok(n <= 750, `${n} expiries in one second`);
  // Every lease still expires, in bounded batches.
  clock.t += 20_000;
  const seen = new Set<bigint>();
  for (let batch = lessor.expired(); batch.length > 0; batch = lessor.expired()) {
    assert.ok(batch.length <= 500);
    for (const id of batch) seen.add(id);
  }
  assert.equal(seen.size, 3000);
});

Deno.test("newLeaseId gives positive int64 IDs; minLeaseTTL follows etcd", () => {
  const random = prng(7);
  for (let i = 0; i < 1000; i++) {
    const id = newLeaseId(random);
    assert.ok(id > 0n && id < 1n << 63n);
  }
  const zeros = [0, 0, 0.5, 0];
  assert.equal(newLeaseId(() => zeros.shift()!), 1n << 62n); // skips the zero ID
  assert.equal(newLeaseId(() => 0.999999999999), (1n << 63n) - 1n);
  assert.equal(minLeaseTTL(1000, 100), 2);
  assert.equal(minLeaseTTL(5000, 100), 8);
  assert.equal(minLeaseTTL(1200, 300), 2);
  assert.equal(minLeaseTTL(100, 100), 1);
});
