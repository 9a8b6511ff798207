// RFC 2782 ordering of SRV answers, as Go's net.LookupSRV returns them: ascending priority, and
// within one priority a weighted shuffle (heavier records tend to come first, weight-0 records
// come last unless every weight is 0).

export interface SrvRecord {
  /** As DNS returns it, with the trailing dot ("infra0.example.com."). */
  target: string;
  port: number;
  priority: number;
  weight: number;
}

/** A uniform number in [0, 1), like Math.random; injected so tests are deterministic. */
export type Random = () => number;

function randomInt(random: Random, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/** Weighted shuffle of one priority class, in place (records already sorted by weight). */
function shuffleByWeight(group: SrvRecord[], random: Random): void {
  let sum = group.reduce((s, r) => s + r.weight, 0);
  for (let first = 0; sum > 0 && first < group.length - 1; first++) {
    const n = randomInt(random, sum);
    let running = 0;
    for (let i = first; i < group.length; i++) {
      running += group[i].weight;
      if (running > n) {
        [group[first], group[i]] = [group[i], group[first]];
        break;
      }
    }
    sum -= group[first].weight;
  }
}

/** Returns a new array in the order Go's resolver hands SRV records to etcd. */
export function orderSrvRecords(records: SrvRecord[], random: Random = Math.random): SrvRecord[] {
  const sorted = [...records].sort((a, b) => a.priority - b.priority || a.weight - b.weight);
  const out: SrvRecord[] = [];
  let start = 0;
  for (let i = 1; i <= sorted.length; i++) {
    if (i === sorted.length || sorted[i].priority !== sorted[start].priority) {
      const group = sorted.slice(start, i);
      shuffleByWeight(group, random);
      out.push(...group);
      start = i;
    }
  }
  return out;
}
