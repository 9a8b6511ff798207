// Self-test support: single changes to a valid history. The named ones are wrong by
// construction (the comment on each says why); `anyMutation` may or may not be, and is
// judged by the brute-force oracle.

import { range } from "./model.ts";
import type { Simulated } from "./sim_kv.ts";
import type { KeyValue, Operation, RangeRequest, Result } from "./types.ts";

type Ok = Operation & { outcome: { status: "ok"; revision: number; result: Result } };

const isOk = (op: Operation | undefined): op is Ok => op?.outcome.status === "ok";
const isLatestRead = (op: Ok) =>
  op.request.type === "range" && !op.request.serializable && !op.request.revision;
const isPut = (op: Ok) => op.request.type === "put";

function replaceOutcome(
  history: Operation[],
  i: number,
  outcome: Operation["outcome"],
): Operation[] {
  return history.map((op, j) => j === i ? { ...op, outcome } : op);
}

/**
 * A read answers from the store as it was before a write that had returned before the read
 * was called: it must see that write's revision or a later one.
 */
export function staleRead(sim: Simulated, pick: number): Operation[] | undefined {
  const h = sim.history;
  const pairs: [number, Ok][] = [];
  h.forEach((r, i) => {
    if (!isOk(r) || !isLatestRead(r)) return;
    const w = h.findLast((w) => isOk(w) && isPut(w) && w.return! < r.call);
    if (w) pairs.push([i, w as Ok]);
  });
  if (pairs.length === 0) return undefined;
  const [i, w] = pairs[pick % pairs.length];
  const old = w.outcome.revision - 1;
  const result = range(sim.stores.get(old)!, h[i].request as RangeRequest);
  return replaceOutcome(h, i, { status: "ok", revision: old, result });
}

/**
 * A read after an acknowledged put of a key, at a revision where that put is still the key's
 * last write, shows the key's earlier value instead: the put is lost. The earlier value has
 * an older mod revision, which no store after the put can hold.
 */
export function lostWrite(sim: Simulated, pick: number): Operation[] | undefined {
  const h = sim.history;
  const found: [number, KeyValue][] = [];
  h.forEach((r, i) => {
    if (!isOk(r) || r.request.type !== "range" || !isLatestRead(r) || r.request.rangeEnd) return;
    const kv = r.outcome.result.type === "range" ? r.outcome.result.kvs[0] : undefined;
    const prev = kv && sim.stores.get(kv.modRevision - 1)?.get(kv.key);
    const put = h.find((w) => isOk(w) && isPut(w) && w.outcome.revision === kv?.modRevision);
    if (prev && put && put.return! < r.call) found.push([i, prev]);
  });
  if (found.length === 0) return undefined;
  const [i, prev] = found[pick % found.length];
  const old = h[i].outcome as Ok["outcome"];
  const result = { type: "range" as const, kvs: [prev], count: 1, more: false };
  return replaceOutcome(h, i, { ...old, result });
}

/**
 * Two puts, the second called after the first returned, report each other's revisions:
 * the later write claims the earlier revision.
 */
export function reorderWrites(sim: Simulated, pick: number): Operation[] | undefined {
  const h = sim.history;
  const puts = h.map((op, i) => [op, i] as const).filter(([op]) => isOk(op) && isPut(op as Ok));
  const pairs: [number, number][] = [];
  for (const [a, i] of puts) {
    for (const [b, j] of puts) if (a.return! < b.call) pairs.push([i, j]);
  }
  if (pairs.length === 0) return undefined;
  const [i, j] = pairs[pick % pairs.length];
  const a = h[i].outcome as Ok["outcome"], b = h[j].outcome as Ok["outcome"];
  return replaceOutcome(replaceOutcome(h, i, { ...a, revision: b.revision }), j, {
    ...b,
    revision: a.revision,
  });
}

/**
 * A read shows a value nobody wrote ("value"), or the right value with a version one too
 * high ("version"): the revisions are right, only the model can tell.
 */
export function corruptRead(
  sim: Simulated,
  pick: number,
  field: "value" | "version" = "value",
): Operation[] | undefined {
  const h = sim.history;
  const reads = h.map((op, i) => [op, i] as const).filter(([op]) =>
    isOk(op) && isLatestRead(op) && op.outcome.result.type === "range" &&
    op.outcome.result.kvs.length > 0
  );
  if (reads.length === 0) return undefined;
  const [op, i] = reads[pick % reads.length];
  const o = op.outcome as Ok["outcome"] & { result: { type: "range"; kvs: KeyValue[] } };
  const bad = (kv: KeyValue) =>
    field === "value" ? { ...kv, value: kv.value + "!" } : { ...kv, version: kv.version + 1 };
  const kvs = o.result.kvs.map((kv, j) => j === 0 ? bad(kv) : kv);
  return replaceOutcome(h, i, { ...o, result: { ...o.result, kvs } });
}

/** Any one change to one operation's response or times; possibly still linearizable. */
export function anyMutation(history: Operation[], which: number, pick: number): Operation[] {
  const i = which % history.length;
  const op = history[i];
  const out = [...history];
  const o = op.outcome;
  const d = pick % 2 === 0 ? 1 : -1;
  if (o.status !== "ok" || pick % 5 === 4) {
    // Moves the operation earlier in time: it may now precede what it saw.
    const shift = 1 + (pick % 7);
    const ret = op.return === undefined ? undefined : op.return - shift;
    out[i] = { ...op, call: op.call - shift, ...(ret === undefined ? {} : { return: ret }) };
    return out;
  }
  if (pick % 5 === 0) {
    out[i] = { ...op, outcome: { ...o, revision: o.revision + d } };
    return out;
  }
  if (pick % 5 === 3) {
    // The client never heard back.
    const { return: _, ...rest } = op;
    out[i] = { ...rest, outcome: { status: "unknown" } };
    return out;
  }
  out[i] = { ...op, outcome: { ...o, result: mutateResult(o.result, d, pick) } };
  return out;
}

function mutateResult(r: Result, d: number, pick: number): Result {
  switch (r.type) {
    case "range": {
      if (r.kvs.length === 0) return { ...r, count: r.count + 1 };
      const kvs = [...r.kvs];
      const kv = kvs[0];
      kvs[0] = pick % 3 === 1
        ? { ...kv, value: kv.value + "x" }
        : pick % 3 === 2
        ? { ...kv, modRevision: kv.modRevision + d }
        : { ...kv, version: kv.version + d };
      return { ...r, kvs };
    }
    case "deleteRange":
      return { ...r, deleted: Math.max(0, r.deleted + d) };
    case "txn":
      return { ...r, succeeded: !r.succeeded };
    case "put":
      return r.prevKv ? { type: "put" } : r;
    default:
      return r;
  }
}
