// What the history saw each revision write. A key-value seen with mod revision r (in any
// response, stale reads included, or a watch event) is exactly what revision r wrote to that
// key, in every linearization that can explain the response. The search uses this to refuse
// a wrong write at r at once, rather than when the response that saw it is reached.

import type { PreparedOp } from "./history.ts";
import { sameKv } from "./match.ts";
import type { KvState } from "./state.ts";
import type { Event, KeyValue, RequestOp, Result } from "./types.ts";

export interface Observations {
  /** Per revision, the key-values seen with that mod revision (value "" unknown if keysOnly). */
  writes: Map<number, Observed[]>;
  /** Per revision, the keys watches saw deleted there. */
  deletes: Map<number, string[]>;
}

/** A key-value seen with its mod revision; `by` saw it (none: a watch). */
export interface Observed {
  kv: KeyValue;
  valueKnown: boolean;
  by?: PreparedOp;
}

export function observe(ops: PreparedOp[], events: Event[]): Observations {
  const obs: Observations = { writes: new Map(), deletes: new Map() };
  const add = (kv: KeyValue, valueKnown: boolean, by?: PreparedOp) => {
    const list = obs.writes.get(kv.modRevision) ?? [];
    if (!list.some((o) => o.valueKnown === valueKnown && sameKv(o.kv, kv))) {
      list.push({ kv, valueKnown, by });
    }
    obs.writes.set(kv.modRevision, list);
  };
  for (const op of ops) {
    const outcome = op.operation.outcome;
    const keysOnly = op.request.type === "range" && op.request.keysOnly === true;
    if (outcome.status !== "ok") continue;
    for (const kv of resultKvs(outcome.result)) add(kv, !keysOnly, op);
  }
  for (const e of events) {
    if (e.prevKv) add(e.prevKv, true);
    if (e.type === "PUT") add(e.kv, true);
    else obs.deletes.set(e.kv.modRevision, [...obs.deletes.get(e.kv.modRevision) ?? [], e.kv.key]);
  }
  return obs;
}

function* resultKvs(result: Result): Generator<KeyValue> {
  if (result.type === "range") yield* result.kvs;
  if (result.type === "put" && result.prevKv) yield result.prevKv;
  if (result.type === "deleteRange") yield* result.prevKvs ?? [];
  if (result.type === "txn") { for (const r of result.responses) yield* resultKvs(r); }
}

/** Whether the write that just created the store's revision is the one observed there. */
export function fitsObserved(obs: Observations, state: KvState, mark: number): boolean {
  for (const { kv, valueKnown } of obs.writes.get(state.revision) ?? []) {
    const now = state.get(kv.key);
    if (!now || !sameKv(now, valueKnown ? kv : { ...kv, value: now.value })) return false;
  }
  const deleted = obs.deletes.get(state.revision);
  if (!deleted) return true;
  const changes = state.changesSince(mark);
  return deleted.every((key) => changes.some((c) => c.key === key && c.next === undefined));
}

/** Who could have put each key and value: answered writes at their revision, unanswered ones. */
export function writers(ops: PreparedOp[]): Map<string, { op: PreparedOp; revision?: number }[]> {
  const out = new Map<string, { op: PreparedOp; revision?: number }[]>();
  for (const op of ops) {
    const r = op.request, o = op.operation.outcome;
    let puts = r.type === "put" ? [r] : r.type === "txn" ? [...r.success, ...r.failure] : [];
    let revision: number | undefined;
    if (o.status === "error" || op.kind === "snapshot") continue;
    if (o.status === "ok") {
      revision = o.revision;
      if (r.type === "txn" && o.result.type === "txn") {
        puts = o.result.succeeded ? r.success : r.failure;
      }
    }
    for (const put of puts) {
      if (put.type !== "put") continue;
      const id = `${put.key}\0${put.value}`;
      out.set(id, [...out.get(id) ?? [], { op, revision }]);
    }
  }
  return out;
}

/**
 * When exactly one request of the history writes an observed key and value and its outcome
 * is unknown, it did take effect, at the observed revision (etcd's suite patches its history
 * from watch events the same way). This only narrows the search.
 */
export function pinObserved(ops: PreparedOp[], obs: Observations): void {
  const all = writers(ops);
  for (const seen of obs.writes.values()) {
    for (const { kv, valueKnown } of seen) {
      const found = valueKnown ? all.get(`${kv.key}\0${kv.value}`) : undefined;
      if (found?.length !== 1 || found[0].revision !== undefined) continue;
      found[0].op.kind = "required";
      found[0].op.before = found[0].op.latest = kv.modRevision - 1;
    }
  }
}

/**
 * Unknown writes that differ only in values nothing ever shows (no response, no watch, no
 * compare of values on their keys) have the same effect as far as the history can tell: the
 * search uses such twins in call order only. Returns the twin class of an operation, if any.
 */
export function twinClass(
  ops: PreparedOp[],
  obs: Observations,
): (op: PreparedOp) => string | undefined {
  const shown = new Set<string>();
  for (const seen of obs.writes.values()) {
    for (const { kv, valueKnown } of seen) if (valueKnown) shown.add(`${kv.key}\0${kv.value}`);
  }
  const compared = new Set<string>();
  for (const op of ops) {
    if (op.request.type !== "txn") continue;
    for (const c of op.request.compare) if (c.target === "value") compared.add(c.key);
  }
  const hidden = (put: RequestOp) =>
    put.type !== "put" || (!shown.has(`${put.key}\0${put.value}`) && !compared.has(put.key));
  return (op) => {
    const r = op.request;
    const puts = r.type === "txn" ? [...r.success, ...r.failure] : [r as RequestOp];
    if (r.type === "leaseGrant" || r.type === "leaseRevoke" || !puts.every(hidden)) {
      return undefined;
    }
    return JSON.stringify(
      r,
      (name, value) => name === "value" && typeof value === "string" ? "" : value,
    );
  };
}
