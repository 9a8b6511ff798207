// The clients' traffic, after etcd's robustness suite: reads (linearizable, serializable, of a
// past revision, by prefix), puts (some under a lease), deletes, compare-and-swap and
// multi-key transactions, lease grants and revokes, and short leases left to expire, on a few
// keys so that clients contend. Every request is recorded; what answers show is learnt for
// the next compare-and-swap.

import { sleep } from "../../helpers/wait.ts";
import { type Operation, prefixEnd, type Request, type Result } from "../mod.ts";
import type { Session } from "./session.ts";

export interface TrafficOptions {
  /** Every key of the run starts with it. */
  prefix: string;
  keys: number;
  /** Lease IDs are chosen by the clients, counting up from here. */
  leaseBase: number;
  /** TTL of the leases that are revoked, long enough never to expire within a run. */
  longTtl: number;
  /** TTL of the leases left to expire. */
  shortTtl: number;
}

type Kind = keyof typeof WEIGHTS;

/** How often each kind of request is sent, relative to the others. */
const WEIGHTS = {
  get: 14,
  getPrefix: 6,
  getStale: 4,
  getAt: 3,
  put: 18,
  putLease: 5,
  delete: 5,
  deleteRange: 2,
  cas: 10,
  txnMulti: 4,
  leaseGrant: 2,
  leaseRevoke: 2,
  shortLease: 2,
};
const TOTAL = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);

/** What every client of the run shares: the history and the leases. */
export class Traffic {
  readonly operations: Operation[] = [];
  /** Long leases granted and not (known to be) revoked. */
  readonly leases = new Set<number>();
  /** Leases left to expire, with the request that granted them. */
  readonly shortLeases: Operation[] = [];
  stopping = false;
  private nextLease: number;

  constructor(readonly opts: TrafficOptions, readonly random: () => number) {
    this.nextLease = opts.leaseBase;
  }

  key(i: number): string {
    return `${this.opts.prefix}k${i}`;
  }

  get range(): { key: string; rangeEnd: string } {
    return { key: this.opts.prefix, rangeEnd: prefixEnd(this.opts.prefix) };
  }

  leaseId(): number {
    return this.nextLease++;
  }

  record(op: Operation): void {
    this.operations.push(op);
    const { request, outcome } = op;
    if (request.type === "leaseGrant" && request.ttl === this.opts.longTtl) {
      if (outcome.status !== "error") this.leases.add(request.id);
    }
    if (request.type === "leaseRevoke" && outcome.status !== "unknown") {
      this.leases.delete(request.id);
    }
    if (request.type === "leaseGrant" && request.ttl === this.opts.shortTtl) {
      this.shortLeases.push(op);
    }
  }
}

/** One client: requests one after another until the traffic stops. */
export async function runClient(t: Traffic, client: number, session: Session): Promise<void> {
  const seen = new Map<string, number>();
  let n = 0;
  while (!t.stopping) {
    for (const request of requests(t, client, n++, seen)) {
      const op = await session.perform(client, request);
      if (!op) {
        // No member could be reached: wait before the next one is tried.
        await sleep(100);
        break;
      }
      t.record(op);
      if (op.outcome.status === "ok") learn(op.outcome.result, seen);
      if (op.outcome.status !== "ok") break;
    }
  }
}

function learn(result: Result, seen: Map<string, number>): void {
  if (result.type === "txn") result.responses.forEach((r) => learn(r, seen));
  if (result.type === "range") { for (const kv of result.kvs) seen.set(kv.key, kv.modRevision); }
}

function pickKind(r: number): Kind {
  let at = r * TOTAL;
  for (const [kind, weight] of Object.entries(WEIGHTS) as [Kind, number][]) {
    if ((at -= weight) < 0) return kind;
  }
  return "get";
}

/** The next request of a client, or two for a short lease (its grant, then a put under it). */
function requests(t: Traffic, client: number, n: number, seen: Map<string, number>): Request[] {
  const r = t.random;
  const key = t.key(Math.floor(r() * t.opts.keys));
  const value = `c${client}.${n}`;
  const leases = [...t.leases];
  // With no long lease about, an ID never granted (a short lease's might be, revoked too early).
  const lease = leases.length > 0 ? leases[Math.floor(r() * leases.length)] : t.opts.leaseBase - 1;
  const latest = Math.max(0, ...seen.values());
  switch (pickKind(r())) {
    case "get":
      return [{ type: "range", key }];
    case "getPrefix":
      return [{ type: "range", ...t.range, limit: r() < 0.3 ? 3 : undefined }];
    case "getStale":
      return [{ type: "range", ...t.range, serializable: true }];
    case "getAt":
      return latest < 2 ? [] : [{
        type: "range",
        ...t.range,
        revision: Math.max(2, latest - Math.floor(r() * 5)),
      }];
    case "put":
      return [{ type: "put", key, value, prevKv: r() < 0.5 }];
    case "putLease":
      return [{ type: "put", key, value, lease }];
    case "delete":
      return [{ type: "deleteRange", key, prevKv: r() < 0.5 }];
    case "deleteRange":
      return [{ type: "deleteRange", key: t.key(2), rangeEnd: t.key(5), prevKv: true }];
    case "cas":
      return [{
        type: "txn",
        compare: [{ key, target: "mod", result: "equal", value: seen.get(key) ?? 0 }],
        success: [{ type: "put", key, value }],
        failure: [{ type: "range", key }],
      }];
    case "txnMulti":
      return [txnMulti(t, key, value)];
    case "leaseGrant":
      return [{ type: "leaseGrant", id: t.leaseId(), ttl: t.opts.longTtl }];
    case "leaseRevoke":
      return [{ type: "leaseRevoke", id: lease }];
    case "shortLease": {
      const id = t.leaseId();
      return [
        { type: "leaseGrant", id, ttl: t.opts.shortTtl },
        { type: "put", key, value, lease: id },
      ];
    }
  }
}

/** Writes two keys at once if the first exists, else deletes it and reads it. */
function txnMulti(t: Traffic, key: string, value: string): Request {
  let other = t.key(Math.floor(t.random() * t.opts.keys));
  if (other === key) other = t.key(t.opts.keys); // a key only these transactions write
  return {
    type: "txn",
    compare: [{ key, target: "version", result: "greater", value: 0 }],
    success: [{ type: "put", key, value }, { type: "put", key: other, value: `${value}'` }],
    failure: [{ type: "deleteRange", key: other }, { type: "range", key }],
  };
}
