// etcd's lease guarantee at the end of a run: a key attached to a lease that expires is gone
// from every member once the leader has revoked it, with no client revoking anything.

import { checkLeaseKeysGone, type MemberRead } from "../../robustness/mod.ts";
import type { Cluster } from "./cluster.ts";
import { toKv } from "./requests.ts";

const enc = new TextEncoder();
/** Outside the IDs the clients use, and the key outside theirs. */
const LEASE = 1_000_000;
const KEY = "expiring";
/** The shortest TTL etcd grants at a 1 s election timeout is 2 s. */
const TTL = 2;

/** Grants a short lease, attaches a key, lets it expire; returns violations. */
export async function checkLeaseExpiry(c: Cluster, safe: () => boolean): Promise<string[]> {
  const via = c.leader();
  if (!via?.server) return ["lease expiry: no leader to grant the lease"];
  const server = via.server;
  let attached: boolean | undefined;
  void c.time.as(via.owner!, async () => {
    await server.lease.grant(BigInt(LEASE), TTL);
    await server.kv.put({ key: enc.encode(KEY), value: enc.encode("x"), lease: BigInt(LEASE) });
  }).then(() => attached = true, () => attached = false);
  await c.time.run(c.time.now + 10_000, () => !safe() || attached !== undefined);
  if (!attached) return safe() ? ["lease expiry: could not grant the lease and attach a key"] : [];
  c.trace(`lease ${LEASE} (TTL ${TTL} s) holds ${KEY}`);
  const reads = (): MemberRead[] =>
    c.members.filter((m) => m.serving).map((m) => {
      const res = c.time.as(m.owner!, () => m.state!.backend.store.range(enc.encode(KEY)));
      return { member: m.name, kvs: res.kvs.map(toKv) };
    });
  const gone = () => checkLeaseKeysGone([LEASE], reads()).length === 0;
  // The leader revokes expired leases every 500 ms; the revoke then commits and applies.
  await c.time.run(c.time.now + TTL * 1000 + 5000, () => !safe() || gone());
  if (!safe()) return [];
  const left = checkLeaseKeysGone([LEASE], reads());
  if (left.length === 0) c.trace(`lease ${LEASE} expired: ${KEY} gone everywhere`);
  return left.map((v) => `lease expiry: ${v}`);
}
