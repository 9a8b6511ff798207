// Self-test support: valid histories made by running clients' plans against the model as a
// single sequential server. Each request takes effect at one instant between its call and
// its return, so the history is linearizable by construction; requests whose outcome is
// lost take effect late (after the client gave up) or never.

import { prefixEnd } from "./keys.ts";
import { range, step } from "./model.ts";
import { KvState } from "./state.ts";
import { toEvent } from "./replay.ts";
import type { Event, Operation, Outcome, RangeRequest, Request, Result } from "./types.ts";

export const KEYS = ["a", "a/1", "a/2", "b", "b/1", "c"];

export const KINDS = [
  "get",
  "getPrefix",
  "getAll",
  "getStale",
  "getAt",
  "put",
  "putLease",
  "delete",
  "deletePrefix",
  "cas",
  "txnMulti",
  "leaseGrant",
  "leaseRevoke",
] as const;

export interface OpPlan {
  client: number;
  kind: (typeof KINDS)[number];
  key: number;
  /** Time between the client's previous return (or give-up) and this call. */
  think: number;
  /** Time from the call to the instant the request takes effect. */
  before: number;
  /** Time from that instant to the return. */
  after: number;
  /** "late": the client gives up, the request still takes effect; "lost": it never does. */
  fate: "ok" | "late" | "lost";
  /** A free choice: how stale a read is, which lease, ... */
  pick: number;
}

export interface Simulated {
  history: Operation[];
  /** What actually happened, in revision order. */
  events: Event[];
  revision: number;
  /** The store at each revision. */
  stores: Map<number, KvState>;
}

/** A client that stops waiting gives up this long after its call. */
const TIMEOUT = 7;

export function simulate(plan: OpPlan[]): Simulated {
  const timed = schedule(plan);
  const server = new Server();
  const history: Operation[] = [];
  for (const t of [...timed].sort((a, b) => a.at - b.at || a.index - b.index)) {
    const request = server.request(t.plan, t.index);
    const outcome = server.serve(t.plan, request);
    const op: Operation = { client: t.plan.client, call: t.call, request, outcome };
    if (outcome.status !== "unknown") op.return = t.ret;
    history[t.index] = op;
  }
  return { history, events: server.events, revision: server.state.revision, stores: server.stores };
}

/** Call, effect and return times: each client's requests one after another. */
function schedule(plan: OpPlan[]) {
  const free = new Map<number, number>();
  return plan.map((p, index) => {
    const call = (free.get(p.client) ?? 0) + p.think;
    const at = call + p.before;
    const ret = at + p.after;
    free.set(p.client, p.fate === "ok" ? ret : call + TIMEOUT);
    return { plan: p, index, call, at, ret };
  });
}

class Server {
  readonly state = new KvState();
  readonly stores = new Map<number, KvState>([[1, new KvState()]]);
  readonly events: Event[] = [];
  readonly leases: number[] = [];
  readonly seenMod = new Map<string, number>();

  request(p: OpPlan, index: number): Request {
    const key = KEYS[p.key % KEYS.length];
    const value = `v${index}`;
    const lease = this.leases.length ? this.leases[p.pick % this.leases.length] : 0;
    switch (p.kind) {
      case "get":
        return { type: "range", key };
      case "getPrefix":
        return { type: "range", key, rangeEnd: prefixEnd(key) };
      case "getAll":
        return {
          type: "range",
          key: "\0",
          rangeEnd: "\0",
          limit: p.pick % 3 === 0 ? 2 : undefined,
        };
      case "getStale":
        return { type: "range", key, rangeEnd: prefixEnd(key), serializable: true };
      case "getAt":
        return { type: "range", key, revision: Math.max(1, this.state.revision - (p.pick % 4)) };
      case "put":
        return { type: "put", key, value, prevKv: p.pick % 2 === 0 };
      case "putLease":
        return { type: "put", key, value, lease: p.pick % 5 === 4 ? 999 : lease || 999 };
      case "delete":
        return { type: "deleteRange", key, prevKv: p.pick % 2 === 0 };
      case "deletePrefix":
        return { type: "deleteRange", key, rangeEnd: prefixEnd(key), prevKv: true };
      case "cas":
        return this.cas(key, value);
      case "txnMulti":
        return this.txnMulti(key, value, p.pick);
      case "leaseGrant":
        return { type: "leaseGrant", id: 100 + index, ttl: 60 };
      case "leaseRevoke":
        return { type: "leaseRevoke", id: lease || 999 };
    }
  }

  cas(key: string, value: string): Request {
    const mod = this.seenMod.get(key) ?? 0;
    return {
      type: "txn",
      compare: [{ key, target: "mod", result: "equal", value: mod }],
      success: [{ type: "put", key, value }],
      failure: [{ type: "range", key }],
    };
  }

  txnMulti(key: string, value: string, pick: number): Request {
    const other = KEYS[(KEYS.indexOf(key) + 1 + pick % (KEYS.length - 1)) % KEYS.length];
    return {
      type: "txn",
      compare: [{ key, target: "version", result: "greater", value: pick % 2 }],
      success: [{ type: "put", key, value }, { type: "range", key: other }, {
        type: "put",
        key: other,
        value: value + "'",
      }],
      failure: [{ type: "deleteRange", key, rangeEnd: prefixEnd(key) }, { type: "range", key }],
    };
  }

  serve(p: OpPlan, request: Request): Outcome {
    if (p.fate === "lost") return { status: "unknown" };
    if (request.type === "range" && request.serializable) return this.stale(request, p.pick);
    const from = this.state.revision, mark = this.state.mark();
    const answer = step(this.state, request);
    if (request.type === "leaseGrant" && answer.status === "ok") this.leases.push(request.id);
    if (this.state.revision !== from) this.record(mark);
    if (p.fate === "late") return { status: "unknown" };
    if (answer.status === "error") return answer;
    // A read of an older revision: the model answers its header, the old store its contents.
    const result = answer.result ??
      range(this.stores.get((request as RangeRequest).revision!)!, request as RangeRequest);
    this.learn(result);
    return { status: "ok", revision: answer.revision, result };
  }

  /** A member that lags: the store as it was a few revisions ago. */
  stale(request: RangeRequest, pick: number): Outcome {
    const revision = Math.max(1, this.state.revision - (pick % 3));
    return { status: "ok", revision, result: range(this.stores.get(revision)!, request) };
  }

  record(mark: number): void {
    const revision = this.state.revision;
    for (const c of this.state.changesSince(mark)) this.events.push(toEvent(c, revision));
    this.stores.set(revision, this.state.clone());
  }

  /** What clients have seen, for the compare of their next compare-and-swap. */
  learn(result: Result): void {
    if (result.type === "txn") result.responses.forEach((r) => this.learn(r));
    if (result.type === "range") {
      for (const kv of result.kvs) this.seenMod.set(kv.key, kv.modRevision);
    }
  }
}
