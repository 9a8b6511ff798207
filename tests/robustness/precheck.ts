// Necessary conditions checked before any search, each in one pass, each naming the two
// operations that break it. Stale reads, lost writes and writes acknowledged out of order
// fail here at once, however many unknown writes the history has.

import { describeOp } from "./explain.ts";
import type { Prepared, PreparedOp } from "./history.ts";
import { sameKv } from "./match.ts";
import { writers } from "./observe.ts";
import { readKvs } from "./quiet.ts";
import { describeKv } from "./state.ts";
import type { InitialState, Result } from "./types.ts";

export function precheck(prepared: Prepared, initial: InitialState): string | undefined {
  const ops = prepared.ops;
  return realTimeViolation(ops) ?? overwrittenRead(ops) ?? unwritten(prepared, initial);
}

/**
 * The store's revision never goes back, so an operation called after another returned must
 * see at least the revision that one reported.
 */
function realTimeViolation(ops: PreparedOp[]): string | undefined {
  // Each answered operation shows the store at its header revision by its return; a read
  // of a past store shows the revision it read.
  const shown = ops.flatMap((op) => {
    const o = op.operation.outcome;
    if (op.kind === "snapshot") return [{ op, ret: op.ret, revision: op.before! }];
    return op.kind === "known" && o.status === "ok"
      ? [{ op, ret: op.ret, revision: o.revision }]
      : [];
  }).sort((a, b) => a.ret - b.ret);
  const called = ops.filter((op) => op.kind === "known" && op.latest !== undefined)
    .sort((a, b) => a.call - b.call);
  let i = 0;
  let highest: { op: PreparedOp; revision: number } | undefined;
  for (const op of called) {
    while (i < shown.length && shown[i].ret < op.call) {
      if (!highest || shown[i].revision > highest.revision) highest = shown[i];
      i++;
    }
    if (highest && op.latest! < highest.revision) {
      return `not linearizable: ${describeOp(op)} was called after ${describeOp(highest.op)} ` +
        `returned, yet its response needs the store at revision ${op.latest} at most, ` +
        `before the ${highest.revision} already seen.`;
    }
  }
  return undefined;
}

/**
 * A read at revision h showing a key last written at revision m says nothing wrote the key
 * in (m, h]; an answered write of that key there says otherwise.
 */
function overwrittenRead(ops: PreparedOp[]): string | undefined {
  const writes = writesByKey(ops);
  for (const { op, at, kv } of readKvs(ops)) {
    const w = writes.get(kv.key)?.find((w) => w.revision > kv.modRevision && w.revision <= at);
    if (!w) continue;
    return `not linearizable: ${describeOp(op)} shows ${JSON.stringify(kv.key)} last written ` +
      `at revision ${kv.modRevision} in the store at revision ${at}, but ${describeOp(w.op)} ` +
      `wrote it at revision ${w.revision}.`;
  }
  return undefined;
}

/** The keys each answered write changed, with the revision it made. */
function writesByKey(ops: PreparedOp[]): Map<string, { revision: number; op: PreparedOp }[]> {
  const out = new Map<string, { revision: number; op: PreparedOp }[]>();
  for (const op of ops) {
    const o = op.operation.outcome;
    if (op.kind !== "known" || o.status !== "ok") continue;
    for (const key of keysWritten(op, o.result)) {
      out.set(key, [...out.get(key) ?? [], { revision: o.revision, op }]);
    }
  }
  return out;
}

function keysWritten(op: PreparedOp, result: Result): string[] {
  const r = op.request;
  if (r.type === "put") return [r.key];
  if (r.type === "deleteRange" && result.type === "deleteRange" && result.deleted > 0) {
    return result.prevKvs?.map((kv) => kv.key) ?? (r.rangeEnd ? [] : [r.key]);
  }
  if (r.type !== "txn" || result.type !== "txn") return [];
  const branch = result.succeeded ? r.success : r.failure;
  return branch.flatMap((sub, i) => {
    const res = result.responses[i];
    if (sub.type === "put") return [sub.key];
    if (sub.type !== "deleteRange" || res?.type !== "deleteRange" || res.deleted === 0) return [];
    return res.prevKvs?.map((kv) => kv.key) ?? (sub.rangeEnd ? [] : [sub.key]);
  });
}

/** Every key and value seen was put by some request at the revision it was seen with. */
function unwritten(prepared: Prepared, initial: InitialState): string | undefined {
  const all = writers(prepared.ops);
  for (const seen of prepared.observations.writes.values()) {
    for (const { kv, valueKnown, by } of seen) {
      if (!valueKnown || initial.kvs.some((i) => sameKv(i, kv))) continue;
      const found = all.get(`${kv.key}\0${kv.value}`) ?? [];
      if (found.some((w) => w.revision === undefined || w.revision === kv.modRevision)) continue;
      const who = by ? describeOp(by) : "a watch";
      const wrote = found.length ? `; ${describeOp(found[0].op)} put it` : "";
      return `not linearizable: ${who} saw ${describeKv(kv)}, which no request put at revision ` +
        `${kv.modRevision}${wrote}.`;
    }
  }
  return undefined;
}
