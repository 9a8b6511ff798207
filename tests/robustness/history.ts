// Turns a recorded history into what the search needs: operations in call order, each
// classified (must be linearized, may be, or reads a past store) and bounded by the
// revision its response pins it to.

import { isWrite } from "./model.ts";
import { type Observations, observe, pinObserved } from "./observe.ts";
import type { Event, Operation, Request, Result } from "./types.ts";

/**
 * "known": a response was received, the operation must be linearized before its return.
 * "optional": outcome unknown; it took effect at some point after its call, or never.
 * "required": outcome unknown but known to have taken effect (return at infinity).
 * "snapshot": the contents of a read of the store as it was at revision `before`: a
 * serializable read (a member may lag, as far back as it likes, so it has no call time) or a
 * read of an older revision. The store must reach that revision before the read returns,
 * and must then hold what the read saw.
 */
export type Kind = "known" | "optional" | "required" | "snapshot";

export interface PreparedOp {
  /** Position in call order; the search's operation id. */
  id: number;
  /** Index in the history as given. */
  source: number;
  client: number;
  call: number;
  /** Infinity when unknown; -Infinity is the call of a snapshot. */
  ret: number;
  kind: Kind;
  request: Request;
  operation: Operation;
  /** The revision the store must have just before this operation, when the response pins it. */
  before?: number;
  /** The highest revision the store may have just before it (revisions never go back). */
  latest?: number;
}

export interface Prepared {
  ops: PreparedOp[];
  /** What responses and watches saw each revision write. */
  observations: Observations;
}

/**
 * Throws on a malformed history: the checker's verdict on one would mean nothing.
 * `observed`: events watches received, which pin unknown writes as responses do.
 */
export function prepare(history: Operation[], observed: Event[] = []): Prepared {
  const ops: PreparedOp[] = [];
  history.forEach((operation, source) => {
    const problem = malformed(operation);
    if (problem) throw new Error(`operation ${source}: ${problem}`);
    const op = classify(operation, source);
    if (!op) return;
    const { request, outcome } = operation;
    if (request.type === "range" && outcome.status === "ok") {
      const at = request.revision || (request.serializable ? outcome.revision : 0);
      if (at) ops.push({ ...op, kind: "snapshot", call: -Infinity, before: at, latest: undefined });
    }
    // A serializable read may come from a lagging member: only its contents are checked.
    if (request.type !== "range" || !request.serializable) ops.push(op);
  });
  // A loop, not Math.max(...): a long run's watches see more events than a call takes arguments.
  const seen = observed.reduce((max, e) => Math.max(max, e.kv.modRevision), 0);
  if (seen > 0) ops.push(watchedUpTo(seen));
  ops.sort((a, b) => a.call - b.call || a.source - b.source);
  ops.forEach((op, id) => op.id = id);
  const observations = observe(ops, observed);
  pinObserved(ops, observations);
  return { ops, observations };
}

/** Watches saw events up to `revision`: the store must get there (source -1). */
function watchedUpTo(revision: number): PreparedOp {
  const request: Request = { type: "range", key: "" };
  const operation: Operation = {
    client: -1,
    call: -Infinity,
    request,
    outcome: { status: "unknown" },
  };
  const base = {
    id: 0,
    source: -1,
    client: -1,
    call: -Infinity,
    ret: Infinity,
    request,
    operation,
  };
  return { ...base, kind: "snapshot", before: revision };
}

function classify(operation: Operation, source: number): PreparedOp | undefined {
  const { outcome } = operation;
  let request = operation.request;
  // A lease the server named in a response is the lease the request granted.
  if (request.type === "leaseGrant" && request.id === 0) {
    if (outcome.status !== "ok" || outcome.result.type !== "leaseGrant") return undefined;
    request = { ...request, id: outcome.result.id };
  }
  const base = {
    id: 0,
    source,
    client: operation.client,
    call: operation.call,
    request,
    operation,
  };
  if (outcome.status === "unknown") {
    // An unanswered read proves nothing; an unanswered write may or may not have happened.
    if (!isWrite(request)) return undefined;
    const ret = Infinity;
    if (!outcome.persisted) return { ...base, ret, kind: "optional" };
    const before = outcome.revision === undefined ? undefined : outcome.revision - 1;
    return { ...base, ret, kind: "required", before, latest: before };
  }
  const op: PreparedOp = { ...base, ret: operation.return!, kind: "known" };
  if (outcome.status === "ok") {
    const change = changes(request, outcome.result);
    op.latest = outcome.revision - (change === "yes" ? 1 : 0);
    if (change !== "maybe") op.before = op.latest;
  } else if (request.type === "range" && request.revision) {
    op.latest = request.revision - 1;
  }
  return op;
}

/** Whether the recorded response shows the request created a revision. */
function changes(request: Request, result: Result): "yes" | "no" | "maybe" {
  switch (result.type) {
    case "put":
      return "yes";
    case "deleteRange":
      return result.deleted > 0 ? "yes" : "no";
    case "txn": {
      if (request.type !== "txn") return "maybe";
      const ops = result.succeeded ? request.success : request.failure;
      const wrote = ops.some((op, i) => {
        const r = result.responses[i];
        return op.type === "put" || (r?.type === "deleteRange" && r.deleted > 0);
      });
      return wrote ? "yes" : "no";
    }
    case "leaseRevoke":
      // Whether the lease still had keys is not in the response.
      return "maybe";
    default:
      return "no";
  }
}

function malformed(op: Operation): string | undefined {
  if (!Number.isFinite(op.call)) return "call time is not a finite number";
  if (op.outcome.status === "unknown") {
    return op.return === undefined ? undefined : "an unknown outcome has no return time";
  }
  if (op.return === undefined || !Number.isFinite(op.return)) return "no return time";
  if (op.return < op.call) return `returned (${op.return}) before its call (${op.call})`;
  if (op.outcome.status === "error") return undefined;
  const want = op.request.type;
  const got = op.outcome.result.type;
  return got === want ? undefined : `a ${got} response to a ${want} request`;
}
