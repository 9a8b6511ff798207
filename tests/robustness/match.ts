// Whether a recorded response is the one the model gives, and if not, why (in words a
// person reading a failure can act on).

import type { Answer } from "./model.ts";
import { describeKv } from "./state.ts";
import type {
  KeyValue,
  Outcome,
  RangeResult,
  Request,
  RequestOp,
  Result,
  ResultOp,
} from "./types.ts";

type Known = Exclude<Outcome, { status: "unknown" }>;

/** undefined when the recorded outcome is the model's answer, else the difference. */
export function mismatch(request: Request, recorded: Known, model: Answer): string | undefined {
  if (recorded.status === "error" || model.status === "error") {
    const got = recorded.status === "error" ? recorded.error : "success";
    const want = model.status === "error" ? model.error : "success";
    return got === want ? undefined : `got ${got}, the model answers ${want}`;
  }
  if (recorded.revision !== model.revision) {
    return `header revision ${recorded.revision}, the model's is ${model.revision}`;
  }
  if (model.result === undefined) return undefined;
  return resultMismatch(request, recorded.result, model.result);
}

function resultMismatch(request: Request, got: Result, want: Result): string | undefined {
  if (got.type !== want.type) return `a ${got.type} response to a ${want.type}`;
  if (request.type === "txn" && got.type === "txn" && want.type === "txn") {
    if (got.succeeded !== want.succeeded) {
      return `txn ${got.succeeded ? "succeeded" : "failed"}, the model's compare ` +
        (want.succeeded ? "succeeds" : "fails");
    }
    const ops = want.succeeded ? request.success : request.failure;
    if (got.responses.length !== ops.length) return `txn has ${got.responses.length} responses`;
    for (let i = 0; i < ops.length; i++) {
      const why = opMismatch(ops[i], got.responses[i], want.responses[i]);
      if (why) return `txn op ${i}: ${why}`;
    }
    return undefined;
  }
  if (got.type === "leaseGrant" && want.type === "leaseGrant" && got.id !== want.id) {
    return `granted lease ${got.id}, the model's is ${want.id}`;
  }
  if (request.type === "txn" || request.type === "leaseGrant" || request.type === "leaseRevoke") {
    return undefined;
  }
  return opMismatch(request, got as ResultOp, want as ResultOp);
}

function opMismatch(request: RequestOp, got: ResultOp, want: ResultOp): string | undefined {
  if (got.type !== want.type) return `a ${got.type} response to a ${want.type}`;
  if (got.type === "range") return rangeMismatch(got, want as RangeResult);
  if (got.type === "put") {
    const w = want as typeof got;
    if (request.type !== "put" || !request.prevKv) return undefined;
    return kvsMismatch("prev_kv", got.prevKv ? [got.prevKv] : [], w.prevKv ? [w.prevKv] : []);
  }
  const w = want as typeof got;
  if (got.deleted !== w.deleted) return `deleted ${got.deleted}, the model deletes ${w.deleted}`;
  if (request.type !== "deleteRange" || !request.prevKv) return undefined;
  return kvsMismatch("prev_kvs", got.prevKvs ?? [], w.prevKvs ?? []);
}

function rangeMismatch(got: RangeResult, want: RangeResult): string | undefined {
  if (got.count !== want.count) return `count ${got.count}, the model counts ${want.count}`;
  if (got.more !== want.more) return `more ${got.more}, the model says ${want.more}`;
  return kvsMismatch("kvs", got.kvs, want.kvs);
}

function kvsMismatch(what: string, got: KeyValue[], want: KeyValue[]): string | undefined {
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    if (got[i] && want[i] && sameKv(got[i], want[i])) continue;
    const g = got[i] ? describeKv(got[i]) : "nothing";
    const w = want[i] ? describeKv(want[i]) : "nothing";
    return `${what}[${i}] is ${g}, the model has ${w}`;
  }
  return undefined;
}

export function sameKv(a: KeyValue, b: KeyValue): boolean {
  return a.key === b.key && a.value === b.value && a.createRevision === b.createRevision &&
    a.modRevision === b.modRevision && a.version === b.version && a.lease === b.lease;
}
