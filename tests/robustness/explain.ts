// Printing operations and a failed search for a person: the operations involved, the store
// where the search got stuck, and why each operation that could have gone next does not fit.

import type { PreparedOp } from "./history.ts";
import { mismatch } from "./match.ts";
import { step } from "./model.ts";
import { snapshotMismatch } from "./snapshots.ts";
import { describeKv, KvState } from "./state.ts";
import type { InitialState, Outcome, Request, RequestOp, Result, ResultOp } from "./types.ts";

export function describeOp(op: PreparedOp): string {
  if (op.source < 0) return `the watches' events, up to revision ${op.before}`;
  const time = (t: number) => t === Infinity ? "∞" : t === -Infinity ? "-∞" : `${t}`;
  const span = `[${time(op.call)}, ${time(op.ret)}]`;
  return `#${op.source} client ${op.client} ${span} ${describeRequest(op.request)} -> ` +
    describeOutcome(op.operation.outcome);
}

export function describeRequest(r: Request): string {
  switch (r.type) {
    case "range": {
      const opts = [
        r.revision ? `at revision ${r.revision}` : "",
        r.serializable ? "serializable" : "",
        r.limit ? `limit ${r.limit}` : "",
        r.keysOnly ? "keys only" : "",
        r.countOnly ? "count only" : "",
      ].filter(Boolean);
      return `get ${describeRange(r.key, r.rangeEnd)}${opts.length ? ` (${opts.join(", ")})` : ""}`;
    }
    case "put":
      return `put ${JSON.stringify(r.key)} = ${JSON.stringify(r.value)}` +
        (r.lease ? ` lease ${r.lease}` : "") + (r.prevKv ? " prev_kv" : "");
    case "deleteRange":
      return `delete ${describeRange(r.key, r.rangeEnd)}${r.prevKv ? " prev_kv" : ""}`;
    case "txn": {
      const cmp = r.compare.map((c) =>
        `${c.target}(${JSON.stringify(c.key)}) ${c.result} ` +
        JSON.stringify(c.value)
      );
      const ops = (list: RequestOp[]) => `[${list.map(describeRequest).join("; ")}]`;
      return `txn if (${cmp.join(" and ")}) then ${ops(r.success)} else ${ops(r.failure)}`;
    }
    case "leaseGrant":
      return `lease grant ${r.id} ttl ${r.ttl}`;
    case "leaseRevoke":
      return `lease revoke ${r.id}`;
  }
}

export function describeRange(key: string, rangeEnd: string | undefined): string {
  if (!rangeEnd) return JSON.stringify(key);
  return `[${JSON.stringify(key)}, ${rangeEnd === "\0" ? "end" : JSON.stringify(rangeEnd)})`;
}

export function describeOutcome(o: Outcome): string {
  if (o.status === "error") return `error "${o.error}"`;
  if (o.status === "unknown") {
    if (!o.persisted) return "unknown";
    return `unknown, persisted${o.revision ? ` at revision ${o.revision}` : ""}`;
  }
  return `revision ${o.revision} ${describeResult(o.result)}`.trimEnd();
}

function describeResult(r: Result): string {
  switch (r.type) {
    case "range":
      return `{${r.kvs.map(describeKv).join("; ")}} count ${r.count}${r.more ? " more" : ""}`;
    case "put":
      return r.prevKv ? `prev ${describeKv(r.prevKv)}` : "";
    case "deleteRange":
      return `deleted ${r.deleted}` +
        (r.prevKvs ? ` prev {${r.prevKvs.map(describeKv).join("; ")}}` : "");
    case "txn": {
      const parts = r.responses.map((x: ResultOp) => describeResult(x) || x.type);
      return `${r.succeeded ? "succeeded" : "failed"} [${parts.join("; ")}]`;
    }
    case "leaseGrant":
      return `lease ${r.id}`;
    case "leaseRevoke":
      return "";
  }
}

/** Where a search got stuck, replaying the linearized prefix that led there. */
export function explainFailure(
  ops: PreparedOp[],
  initial: InitialState,
  failure: { prefix: number[]; blocking: number; candidates: number[] },
): string {
  const state = new KvState(initial);
  for (const id of failure.prefix) step(state, ops[id].request);
  const pending = new Set(ops.map((op) => op.id));
  for (const id of failure.prefix) pending.delete(id);
  const lines = [
    `${failure.prefix.length} of ${ops.length} operations linearized, then no place was left ` +
    `for ${describeOp(ops[failure.blocking])}.`,
    `The store after them: ${state.describe()}`,
    "The last operations linearized:",
    ...failure.prefix.slice(-5).map((id) => `  ${describeOp(ops[id])}`),
    "The operations that could have gone next, and why none fits:",
  ];
  const shown = failure.candidates.slice(0, 12);
  for (const id of shown) {
    lines.push(`  ${describeOp(ops[id])}`, `    ${whyNot(ops, state, ops[id], pending)}`);
  }
  if (failure.candidates.length > shown.length) {
    lines.push(`  and ${failure.candidates.length - shown.length} more`);
  }
  return lines.join("\n");
}

function whyNot(ops: PreparedOp[], state: KvState, op: PreparedOp, pending: Set<number>): string {
  const rev = state.revision;
  if (op.kind === "snapshot") {
    if (rev !== op.before) {
      return `it read the store at revision ${op.before}; the store is at ${rev}`;
    }
    return snapshotMismatch(op, state) ?? "it fits";
  }
  if (op.before !== undefined && rev !== op.before) {
    return `its response needs the store at revision ${op.before}; it is at ${rev}`;
  }
  if (op.latest !== undefined && rev > op.latest) {
    return `its response needs the store at revision ${op.latest} at most; it is at ${rev}`;
  }
  const mark = state.mark();
  const answer = step(state, op.request);
  const changed = state.mark() !== mark;
  let why = op.kind === "known"
    ? mismatch(op.request, op.operation.outcome as Exclude<Outcome, { status: "unknown" }>, answer)
    : answer.status === "error"
    ? `the model refuses it: ${answer.error}`
    : op.kind === "optional" && !changed
    ? "it would change nothing"
    : undefined;
  if (!why) why = overtakes(ops, state.revision, op, pending);
  state.undo(mark);
  return why ?? "it fits, but every order that starts with it fails later";
}

/** The pending operation a step to `revision` would leave behind, if any. */
function overtakes(
  ops: PreparedOp[],
  revision: number,
  op: PreparedOp,
  pending: Set<number>,
): string | undefined {
  for (const id of pending) {
    const other = ops[id];
    if (id === op.id || other.latest === undefined || other.latest >= revision) continue;
    return `it moves the store to revision ${revision}, past ${describeOp(other)}, ` +
      `which needs revision ${other.latest} at most`;
  }
  return undefined;
}
