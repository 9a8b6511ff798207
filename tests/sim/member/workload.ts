// The simulation's clients: each sends one request at a time to a running member, through the
// member's facades, and records it as the checker's Operation — call and return in virtual
// time, the outcome unknown when the client gave up or the member died before answering.

import { prefixEnd } from "../../robustness/mod.ts";
import type { Operation, Outcome, Request } from "../../robustness/mod.ts";
import type { Owner, VirtualTime } from "./clock.ts";
import type { Cluster } from "./cluster.ts";
import type { SimMember } from "./member.ts";
import type { Traced } from "./network.ts";
import { definiteError, perform } from "./requests.ts";

export const KEYS = ["a", "a/1", "b", "c"];

/** A client waits this long (virtual ms) for an answer before it counts the outcome unknown. */
export const CLIENT_TIMEOUT_MS = 3000;

export interface WorkloadEnv {
  time: VirtualTime;
  random: () => number;
  trace: Traced;
  members(): SimMember[];
  history: Operation[];
}

/** What the clients of `c` need, recording into `history`. */
export function workloadEnv(c: Cluster, history: Operation[]): WorkloadEnv {
  return { time: c.time, random: c.random, trace: c.trace, members: () => c.members, history };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lease IDs the clients share: granted (as far as they know) and handed out. */
export class Leases {
  next = 1;
  readonly granted: number[] = [];
  readonly revoked: number[] = [];
}

export class Client {
  readonly owner: Owner;
  #seq = 0;
  readonly #seenMod = new Map<string, number>();

  constructor(readonly id: number, readonly env: WorkloadEnv, readonly leases: Leases) {
    this.owner = { name: `c${id}`, alive: true };
  }

  /** Sends requests until virtual time `until`. */
  run(until: number): Promise<void> {
    return this.env.time.as(this.owner, async () => {
      while (this.env.time.now < until) {
        await sleep(1 + Math.floor(this.env.random() * 100));
        const up = this.env.members().filter((m) => m.serving);
        if (up.length === 0) continue;
        const member = up[Math.floor(this.env.random() * up.length)];
        const lease = this.#someLease();
        // Keep-alives go to the leader's lessor (forwarded from a follower); no revision.
        if (lease && this.env.random() < 0.05) await this.keepAlive(member, lease);
        else await this.send(member, this.#next());
      }
    });
  }

  /** One request to `member`, recorded in the history. */
  async send(member: SimMember, request: Request): Promise<Outcome> {
    const { time, trace, history } = this.env;
    const server = member.server!, owner = member.owner!;
    const op: Operation = {
      client: this.id,
      call: time.now,
      request,
      outcome: { status: "unknown" },
    };
    history.push(op);
    type Answer = { ok: Awaited<ReturnType<typeof perform>> } | { err: unknown } | undefined;
    const answer = await new Promise<Answer>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), CLIENT_TIMEOUT_MS);
      // A client reaches a member once it serves (has published itself), as the API gates it.
      time.as(owner, async () => {
        await server.ready();
        return await perform(server, request);
      }).then(
        (ok) => resolve({ ok }),
        (err) => resolve({ err }),
      ).finally(() => clearTimeout(timer));
    });
    // An answer from a process that has died since could not have reached the client.
    if (answer && owner.alive) {
      if ("ok" in answer) {
        op.outcome = { status: "ok", revision: answer.ok.revision, result: answer.ok.result };
      } else {
        const error = definiteError(answer.err);
        if (error) op.outcome = { status: "error", error };
      }
    }
    if (op.outcome.status !== "unknown") op.return = time.now;
    this.#learn(request, op.outcome);
    trace(`${this.owner.name}>${owner.name} ${describeCall(request)} -> ${describeOutcome(op)}`);
    return op.outcome;
  }

  /** A keep-alive of `lease` through `member`: not in the history, it changes no key. */
  async keepAlive(member: SimMember, lease: number): Promise<void> {
    const server = member.server!, owner = member.owner!;
    const ttl = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve("unknown"), CLIENT_TIMEOUT_MS);
      this.env.time.as(owner, async () => {
        await server.ready();
        return await server.lease.renew(BigInt(lease));
      }).then((res) => resolve(`TTL ${res.TTL}`), (err) => resolve(err.message))
        .finally(() => clearTimeout(timer));
    });
    this.env.trace(`${this.owner.name}>${owner.name} keep-alive ${lease} -> ${ttl}`);
  }

  #learn(request: Request, outcome: Outcome): void {
    if (outcome.status !== "ok") return;
    const { result } = outcome;
    if (result.type === "range") {
      for (const kv of result.kvs) this.#seenMod.set(kv.key, kv.modRevision);
    } else if (request.type === "leaseGrant") {
      this.leases.granted.push(request.id);
    } else if (request.type === "leaseRevoke") {
      this.leases.revoked.push(request.id);
    }
  }

  #next(): Request {
    const r = this.env.random;
    const key = KEYS[Math.floor(r() * KEYS.length)];
    const value = `${this.id}.${++this.#seq}`;
    const pick = r() * 100;
    const lease = this.#someLease();
    if (pick < 20) return { type: "range", key };
    if (pick < 25) return { type: "range", key, serializable: true };
    if (pick < 30) return { type: "range", key, rangeEnd: prefixEnd(key) };
    if (pick < 33) return { type: "range", key: "a", rangeEnd: "\0" };
    if (pick < 55) return { type: "put", key, value, prevKv: r() < 0.3 };
    if (pick < 60 && lease) return { type: "put", key, value, lease };
    if (pick < 68) return { type: "deleteRange", key, prevKv: r() < 0.3 };
    if (pick < 80) {
      return {
        type: "txn",
        compare: [{ key, target: "mod", result: "equal", value: this.#seenMod.get(key) ?? 0 }],
        success: [{ type: "put", key, value }],
        failure: [{ type: "range", key }],
      };
    }
    if (pick < 85) {
      const other = KEYS[(KEYS.indexOf(key) + 1) % KEYS.length];
      return {
        type: "txn",
        compare: [{ key, target: "version", result: "greater", value: 0 }],
        success: [{ type: "put", key: other, value }, { type: "deleteRange", key }],
        failure: [{ type: "put", key, value }],
      };
    }
    if (pick < 92) return { type: "leaseGrant", id: this.leases.next++, ttl: 3600 };
    if (lease) return { type: "leaseRevoke", id: lease };
    return { type: "range", key };
  }

  #someLease(): number | undefined {
    const g = this.leases.granted;
    return g.length === 0 ? undefined : g[Math.floor(this.env.random() * g.length)];
  }
}

export function describeCall(r: Request): string {
  switch (r.type) {
    case "range":
      return `range ${r.key}${r.rangeEnd === undefined ? "" : `..${JSON.stringify(r.rangeEnd)}`}${
        r.serializable ? " serializable" : ""
      }${r.revision ? ` @${r.revision}` : ""}`;
    case "put":
      return `put ${r.key}=${r.value}${r.lease ? ` lease ${r.lease}` : ""}`;
    case "deleteRange":
      return `delete ${r.key}`;
    case "txn":
      return `txn ${r.compare.map((c) => `${c.key}.${c.target} ${c.result} ${c.value}`).join()}`;
    case "leaseGrant":
      return `grant ${r.id}`;
    case "leaseRevoke":
      return `revoke ${r.id}`;
  }
}

function describeOutcome(op: Operation): string {
  const o = op.outcome;
  if (o.status === "unknown") return "unknown";
  if (o.status === "error") return o.error;
  const r = o.result;
  if (r.type === "range") return `rev ${o.revision} [${r.kvs.map((k) => `${k.key}=${k.value}`)}]`;
  if (r.type === "txn") return `rev ${o.revision} ${r.succeeded ? "succeeded" : "failed"}`;
  return `rev ${o.revision}`;
}
