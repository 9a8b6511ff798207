// Which endpoint serves the next client connection, as etcd's TCP proxy picks it: the best
// (lowest) SRV priority among active endpoints; weighted-random when weights are set (weight-0
// endpoints then get about a 1% chance), else round robin over all endpoints skipping inactive
// ones. `--endpoints` entries all have priority 0 and weight 0: plain round robin.
import type { Random } from "../discovery/mod.ts";

export interface Remote {
  /** host:port as dialled and logged. */
  addr: string;
  priority: number;
  weight: number;
  active: boolean;
}

export interface PickState {
  /** Round-robin counter shared by every pick. */
  count: number;
}

function randomInt(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** The remote to dial next, or undefined when every remote is inactive. */
export function pickRemote(
  remotes: Remote[],
  state: PickState,
  random: Random = Math.random,
): Remote | undefined {
  const active = remotes.filter((r) => r.active);
  if (active.length === 0) return undefined;
  const best = Math.min(...active.map((r) => r.priority));
  const candidates = active.filter((r) => r.priority === best);
  const weighted = candidates.filter((r) => r.weight > 0);
  const unweighted = candidates.filter((r) => r.weight === 0);
  if (weighted.length > 0) {
    if (unweighted.length > 0 && randomInt(random, 100) === 1) {
      return unweighted[state.count++ % unweighted.length];
    }
    // etcd's running-sum walk: a draw in [0, total) lands on the first remote whose cumulative
    // weight reaches it.
    let choose = randomInt(random, weighted.reduce((s, r) => s + r.weight, 0));
    for (const r of weighted) {
      choose -= r.weight;
      if (choose <= 0) return r;
    }
  }
  for (let i = 0; i < remotes.length; i++) {
    const r = remotes[state.count++ % remotes.length];
    if (r.active) return r;
  }
  return undefined;
}
