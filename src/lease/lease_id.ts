// Lease ID helpers. The server picks an ID for a grant with ID 0 *before* proposing it, so
// every member applies the same ID; only the proposing member draws random numbers.

const TWO_32 = 4294967296;
const TWO_31 = 2147483648;

// A random positive int64 (etcd only hands out positive lease IDs). `random` returns a number
// in [0, 1) like Math.random; tests inject a seeded one.
export function newLeaseId(random: () => number = Math.random): bigint {
  for (;;) {
    const hi = BigInt(Math.floor(random() * TWO_31));
    const lo = BigInt(Math.floor(random() * TWO_32));
    const id = (hi << 32n) | lo;
    if (id > 0n) return id;
  }
}

// etcd's minimum lease TTL in seconds: 1.5 election timeouts (counted in whole heartbeat ticks,
// as etcd does), rounded up. The defaults (100 ms heartbeat, 1000 ms election) give 2 s.
export function minLeaseTTL(electionTimeoutMs: number, heartbeatMs: number): number {
  const electionTicks = Math.floor(electionTimeoutMs / heartbeatMs);
  const ms = Math.floor((3 * electionTicks) / 2) * heartbeatMs;
  return Math.ceil(ms / 1000);
}
