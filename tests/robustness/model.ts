// etcd's KV state machine as the checker sees it: every request that changes a key creates
// one new revision (a transaction's writes share it); puts keep create_revision and bump
// version; deletes end a key's generation; revoking a lease deletes its keys in one revision.

import { inRange } from "./keys.ts";
import type { KvState } from "./state.ts";
import {
  type Compare,
  type DefiniteError,
  type DeleteRangeRequest,
  type DeleteRangeResult,
  ErrDuplicateKey,
  ErrFutureRev,
  ErrLeaseExist,
  ErrLeaseNotFound,
  type KeyValue,
  type PutRequest,
  type PutResult,
  type RangeRequest,
  type RangeResult,
  type Request,
  type RequestOp,
  type Result,
  type ResultOp,
} from "./types.ts";

/**
 * The model's answer. `result` is absent for a read of an older revision: its header is
 * checked here, its contents against the replayed store (replay.ts).
 */
export type Answer =
  | { status: "ok"; revision: number; result?: Result }
  | { status: "error"; error: DefiniteError };

/** Applies `request` to `state` (journaled) and answers as etcd would. */
export function step(state: KvState, request: Request): Answer {
  switch (request.type) {
    case "range":
      return stepRange(state, request);
    case "put":
    case "deleteRange": {
      const answer = applyOps(state, [request]);
      return "error" in answer ? answer : { ...answer, result: answer.result.responses[0] };
    }
    case "txn": {
      if (duplicateKeys(request.success) || duplicateKeys(request.failure)) {
        return { status: "error", error: ErrDuplicateKey };
      }
      const succeeded = request.compare.every((c) => compare(state, c));
      const answer = applyOps(state, succeeded ? request.success : request.failure);
      if ("error" in answer) return answer;
      return { ...answer, result: { type: "txn", succeeded, responses: answer.result.responses } };
    }
    case "leaseGrant":
      if (state.hasLease(request.id)) return { status: "error", error: ErrLeaseExist };
      state.addLease(request.id);
      return {
        status: "ok",
        revision: state.revision,
        result: { type: "leaseGrant", id: request.id },
      };
    case "leaseRevoke":
      return leaseRevoke(state, request.id);
  }
}

function stepRange(state: KvState, request: RangeRequest): Answer {
  const at = request.revision ?? 0;
  if (at > state.revision) return { status: "error", error: ErrFutureRev };
  if (at !== 0 && at !== state.revision) return { status: "ok", revision: state.revision };
  return { status: "ok", revision: state.revision, result: range(state, request) };
}

/** A range over the store as it is now (whatever revision the request names). */
export function range(state: KvState, request: RangeRequest): RangeResult {
  const keys = state.keys((k) => inRange(k, request.key, request.rangeEnd));
  const count = keys.length;
  if (request.countOnly) return { type: "range", kvs: [], count, more: false };
  const limit = request.limit ?? 0;
  const shown = limit > 0 && count > limit ? keys.slice(0, limit) : keys;
  const kvs = shown.map((k) => {
    const kv = state.get(k)!;
    return request.keysOnly ? { ...kv, value: "" } : kv;
  });
  return { type: "range", kvs, count, more: shown.length < count };
}

/** A transaction body: all writes share revision + 1, taken only if something changed. */
function applyOps(
  state: KvState,
  ops: RequestOp[],
): { status: "ok"; revision: number; result: { responses: ResultOp[] } } | {
  status: "error";
  error: DefiniteError;
} {
  for (const op of ops) {
    if (op.type === "put" && op.lease && !state.hasLease(op.lease)) {
      return { status: "error", error: ErrLeaseNotFound };
    }
  }
  const revision = state.revision + 1;
  const responses: ResultOp[] = [];
  let wrote = false;
  for (const op of ops) {
    if (op.type === "range") responses.push(range(state, op));
    else if (op.type === "put") responses.push(put(state, op, revision));
    else responses.push(deleteRange(state, op));
    wrote ||= op.type === "put" || (responses.at(-1) as DeleteRangeResult).deleted > 0;
  }
  if (wrote) state.setRevision(revision);
  return { status: "ok", revision: state.revision, result: { responses } };
}

function put(state: KvState, op: PutRequest, revision: number): PutResult {
  const prev = state.get(op.key);
  state.set(op.key, {
    key: op.key,
    value: op.value,
    createRevision: prev ? prev.createRevision : revision,
    modRevision: revision,
    version: prev ? prev.version + 1 : 1,
    lease: op.lease ?? 0,
  });
  return op.prevKv && prev ? { type: "put", prevKv: prev } : { type: "put" };
}

function deleteRange(state: KvState, op: DeleteRangeRequest): DeleteRangeResult {
  const keys = state.keys((k) => inRange(k, op.key, op.rangeEnd));
  const prevKvs: KeyValue[] = [];
  for (const key of keys) {
    prevKvs.push(state.get(key)!);
    state.set(key, undefined);
  }
  const result: DeleteRangeResult = { type: "deleteRange", deleted: keys.length };
  if (op.prevKv) result.prevKvs = prevKvs;
  return result;
}

function leaseRevoke(state: KvState, id: number): Answer {
  if (!state.hasLease(id)) return { status: "error", error: ErrLeaseNotFound };
  // etcd's lessor deletes a revoked lease's keys in key order, all in one revision.
  const keys = state.keys((k) => state.get(k)!.lease === id);
  for (const key of keys) state.set(key, undefined);
  state.removeLease(id);
  if (keys.length > 0) state.setRevision(state.revision + 1);
  return { status: "ok", revision: state.revision, result: { type: "leaseRevoke" } };
}

/**
 * etcd refuses, before proposing it, a transaction branch that puts a key twice or puts a
 * key it also deletes: its reads would otherwise see writes that are not what it commits.
 */
function duplicateKeys(ops: RequestOp[]): boolean {
  const puts = ops.filter((op) => op.type === "put").map((op) => op.key);
  const deletes = ops.filter((op) => op.type === "deleteRange");
  return new Set(puts).size < puts.length ||
    puts.some((key) => deletes.some((d) => inRange(key, d.key, d.rangeEnd)));
}

/** etcd's applyCompare for one key: a missing key fails a value compare, else reads as zeros. */
function compare(state: KvState, c: Compare): boolean {
  const kv = state.get(c.key);
  if (!kv && c.target === "value") return false;
  const actual: string | number = !kv
    ? 0
    : c.target === "value"
    ? kv.value
    : c.target === "version"
    ? kv.version
    : c.target === "create"
    ? kv.createRevision
    : c.target === "mod"
    ? kv.modRevision
    : kv.lease;
  switch (c.result) {
    case "equal":
      return actual === c.value;
    case "not_equal":
      return actual !== c.value;
    case "greater":
      return actual > c.value;
    case "less":
      return actual < c.value;
  }
}

/** Whether a request can change the store at all (reads never do). */
export function isWrite(request: Request): boolean {
  if (request.type === "range") return false;
  if (request.type === "txn") return [...request.success, ...request.failure].some(isWrite);
  return true;
}
