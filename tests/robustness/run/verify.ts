// The checks of one run's record: the history against etcd's KV model (lease expiries added as
// the server's own revokes), every watch and every member's event log against the events that
// linearization produced, the lease guarantee on every member, the members' hashes, and every
// acknowledged write found in every member's log.

import {
  checkHistory,
  checkLeaseKeysGone,
  checkWatches,
  type DeleteRangeRequest,
  type DeleteRangeResult,
  describeRequest,
  type Event,
  type InitialState,
  type Operation,
  type WatchRecord,
  type WatchResponse,
} from "../mod.ts";
import type { WorkloadResult } from "./workload.ts";

export interface Verdict {
  operations: number;
  unknown: number;
  watches: number;
  events: number;
  /** Safety: each a broken guarantee (must be none). */
  violations: string[];
  /** Acknowledged writes missing from some member's log afterwards (must be none). */
  lost: string[];
  /** What could not be checked or finished (a member that never caught up, ...). */
  problems: string[];
  checkMs: number;
}

export function verify(r: WorkloadResult, initial: InitialState, shortTtl: number): Verdict {
  const started = performance.now();
  const history = [...r.operations, ...expiries(r, shortTtl)];
  const watches = [...r.watches, ...r.final.logs];
  const observed = watches.flatMap((w) => w.responses.flatMap((res) => res.events));
  const kv = checkHistory(history, { initial, observed });
  const violations = [...kv.violations];
  if (kv.ok) {
    for (const v of checkWatches(watches, kv.events)) {
      violations.push(`watch ${v.guarantee} (client ${v.client}): ${v.message}`);
    }
  }
  violations.push(...checkLeaseKeysGone(endedLeases(r), r.final.reads));
  const hashes = new Set(r.final.hashes.map((h) => h.hash));
  if (hashes.size > 1) {
    violations.push(
      `members' HashKV at revision ${r.final.revision} differ: ${
        r.final.hashes.map((h) => `m${h.member} ${h.hash}`).join(", ")
      }`,
    );
  }
  return {
    operations: r.operations.length,
    unknown: r.operations.filter((o) => o.outcome.status === "unknown").length,
    watches: r.watches.length,
    events: kv.events.length,
    violations,
    lost: lostWrites(r.operations, r.final.logs, r.final.revision),
    problems: [...r.final.problems, ...r.stuck],
    checkMs: performance.now() - started,
  };
}

/**
 * A short lease ends on its own: the server revokes it at some moment after its grant was
 * called. Known to have happened when the lease was granted, later found gone, and no client
 * asked to revoke it.
 */
function expiries(r: WorkloadResult, shortTtl: number): Operation[] {
  const gone = new Set(r.final.expired);
  for (const op of r.operations) {
    if (op.request.type === "leaseRevoke") gone.delete(op.request.id);
  }
  return r.operations.flatMap((op) => {
    const q = op.request;
    if (q.type !== "leaseGrant" || q.ttl !== shortTtl) return [];
    const persisted = op.outcome.status === "ok" && gone.has(q.id);
    return [{
      client: -1,
      call: op.call,
      request: { type: "leaseRevoke", id: q.id },
      outcome: { status: "unknown", persisted },
    }];
  });
}

function endedLeases(r: WorkloadResult): number[] {
  const revoked = r.operations.flatMap((op) =>
    op.request.type === "leaseRevoke" && op.outcome.status === "ok" ? [op.request.id] : []
  );
  return [...revoked, ...r.final.expired];
}

/** Each answered write's effect, looked up in every member's log that reached `to`. */
function lostWrites(operations: Operation[], logs: WatchRecord[], to: number): string[] {
  const byMember = new Map<number, Map<string, Event>>();
  for (const log of logs) {
    const events = byMember.get(log.client) ?? new Map<string, Event>();
    for (const e of log.responses.flatMap((res) => res.events)) {
      events.set(`${e.kv.modRevision}\0${e.kv.key}`, e);
    }
    byMember.set(log.client, events);
  }
  const reached = [...byMember].filter(([client]) =>
    logs.some((l) => l.client === client && l.responses.some((res) => reports(res, to)))
  );
  const out: string[] = [];
  for (const op of operations) {
    if (op.outcome.status !== "ok") continue;
    for (const want of effects(op)) {
      for (const [client, events] of reached) {
        const e = events.get(`${op.outcome.revision}\0${want.key}`);
        if (!e || e.type !== want.type || (want.value !== undefined && e.kv.value !== want.value)) {
          out.push(
            `member m${client - 2000} lacks ${want.type} ${JSON.stringify(want.key)} of ` +
              `${describeRequest(op.request)} acknowledged at revision ${op.outcome.revision}`,
          );
        }
      }
    }
  }
  return out;
}

interface Effect {
  type: Event["type"];
  key: string;
  value?: string;
}

/** Whether a watch response tells that every event up to `to` has been delivered. */
function reports(res: WatchResponse, to: number): boolean {
  return res.progressNotify ? res.revision >= to : res.events.some((e) => e.kv.modRevision >= to);
}

/** The key changes an answered request reports it made. */
function effects(op: Operation): Effect[] {
  if (op.outcome.status !== "ok") return [];
  const { request, outcome: { result } } = op;
  if (request.type === "put") return [{ type: "PUT", key: request.key, value: request.value }];
  if (request.type === "deleteRange" && result.type === "deleteRange") {
    return deleted(request, result);
  }
  if (request.type === "txn" && result.type === "txn") {
    const ops = result.succeeded ? request.success : request.failure;
    return ops.flatMap((q, i): Effect[] => {
      const res = result.responses[i];
      if (q.type === "put") return [{ type: "PUT", key: q.key, value: q.value }];
      return q.type === "deleteRange" && res?.type === "deleteRange" ? deleted(q, res) : [];
    });
  }
  return [];
}

/** The keys a delete removed: its previous key-values, or the one key it names. */
function deleted(request: DeleteRangeRequest, result: DeleteRangeResult): Effect[] {
  if (result.prevKvs) return result.prevKvs.map((kv) => ({ type: "DELETE", key: kv.key }));
  return !request.rangeEnd && result.deleted === 1 ? [{ type: "DELETE", key: request.key }] : [];
}
