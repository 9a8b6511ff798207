// What the history saw each revision write. A key-value seen with mod revision r (in any
// response, stale reads included, or a watch event) is exactly what revision r wrote to that
// key, in every linearization that can explain the response. The search uses this to refuse
// a wrong write at r at once, rather than when the response that saw it is reached.

import type { PreparedOp } from "./history.ts";
import { sameKv } from "./match.ts";
import type { KvState } from "./state.ts";
import type { Event, KeyValue, Result } from "./types.ts";

export interface Observations {
  /** Per revision, the key-values seen with that mod revision (value "" unknown if keysOnly). */
  writes: Map<number, { kv: KeyValue; valueKnown: boolean }[]>;
  /** Per revision, the keys watches saw deleted there. */
  deletes: Map<number, string[]>;
}

export function observe(ops: PreparedOp[], events: Event[]): Observations {
  const obs: Observations = { writes: new Map(), deletes: new Map() };
  const add = (kv: KeyValue, valueKnown: boolean) => {
    const list = obs.writes.get(kv.modRevision) ?? [];
    if (!list.some((o) => o.valueKnown === valueKnown && sameKv(o.kv, kv))) {
      list.push({ kv, valueKnown });
    }
    obs.writes.set(kv.modRevision, list);
  };
  for (const op of ops) {
    const outcome = op.operation.outcome;
    const keysOnly = op.request.type === "range" && op.request.keysOnly === true;
    if (outcome.status === "ok") { for (const kv of resultKvs(outcome.result)) add(kv, !keysOnly); }
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

/**
 * When exactly one request of the history writes an observed key and value and its outcome
 * is unknown, it did take effect, at the observed revision (etcd's suite patches its history
 * from watch events the same way). This only narrows the search.
 */
export function pinObserved(ops: PreparedOp[], obs: Observations): void {
  const writers = new Map<string, PreparedOp[]>();
  for (const op of ops) {
    const r = op.request;
    const puts = r.type === "put" ? [r] : r.type === "txn" ? [...r.success, ...r.failure] : [];
    for (const put of puts) {
      if (put.type !== "put") continue;
      const id = `${put.key}\0${put.value}`;
      writers.set(id, [...writers.get(id) ?? [], op]);
    }
  }
  for (const seen of obs.writes.values()) {
    for (const { kv, valueKnown } of seen) {
      const found = valueKnown ? writers.get(`${kv.key}\0${kv.value}`) : undefined;
      if (found?.length !== 1 || found[0].operation.outcome.status !== "unknown") continue;
      found[0].kind = "required";
      found[0].before = found[0].latest = kv.modRevision - 1;
    }
  }
}
