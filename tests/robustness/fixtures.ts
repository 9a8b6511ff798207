// Self-test support shared by the test files: key-values written short, and random
// client plans for the simulated server.

import fc from "fast-check";
import { KEYS, type OpPlan } from "./sim_kv.ts";
import type { KeyValue } from "./types.ts";

export function kv(
  key: string,
  value: string,
  create: number,
  mod: number,
  version = 1,
  lease = 0,
): KeyValue {
  return { key, value, createRevision: create, modRevision: mod, version, lease };
}

/** One request of one of `clients` clients, of one of `kinds`, meeting one of `fates`. */
export function arbitraryPlan(
  clients: number,
  kinds: readonly OpPlan["kind"][],
  fates: OpPlan["fate"][],
): fc.Arbitrary<OpPlan> {
  return fc.record<OpPlan>({
    client: fc.nat(clients - 1),
    kind: fc.constantFrom(...kinds),
    key: fc.nat(KEYS.length - 1),
    think: fc.nat(4),
    before: fc.nat(12),
    after: fc.nat(12),
    fate: fc.constantFrom(...fates),
    pick: fc.nat(99),
  });
}
