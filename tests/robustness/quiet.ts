// What reads say did not happen: a read of the store at revision h showing a key last
// written at revision m says no request wrote that key in (m, h]. The search refuses at once
// a write there (an unknown write filling a gap, most often) rather than when that read is
// reached, many steps later.

import type { PreparedOp } from "./history.ts";
import type { Change } from "./state.ts";
import type { KeyValue } from "./types.ts";

export class QuietSpans {
  /** Per key, disjoint spans [from, to] of revisions with no write to it, in order. */
  readonly #spans = new Map<string, [number, number][]>();

  constructor(ops: PreparedOp[]) {
    const raw = new Map<string, [number, number][]>();
    for (const { at, kv } of readKvs(ops)) {
      if (kv.modRevision >= at) continue;
      raw.set(kv.key, [...raw.get(kv.key) ?? [], [kv.modRevision + 1, at]]);
    }
    for (const [key, spans] of raw) this.#spans.set(key, merge(spans));
  }

  /** Whether the changes a write made at `revision` leave every read true. */
  allows(changes: Change[], revision: number): boolean {
    return changes.every((c) => !this.#covers(c.key, revision));
  }

  #covers(key: string, revision: number): boolean {
    const spans = this.#spans.get(key);
    if (!spans) return false;
    let lo = 0, hi = spans.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (spans[mid][1] < revision) lo = mid + 1;
      else if (spans[mid][0] > revision) hi = mid - 1;
      else return true;
    }
    return false;
  }
}

/** Each key-value a read showed, with the revision of the store it read (`at`). */
export function* readKvs(
  ops: PreparedOp[],
): Generator<{ op: PreparedOp; at: number; kv: KeyValue }> {
  for (const op of ops) {
    const o = op.operation.outcome;
    if (op.request.type !== "range" || o.status !== "ok" || o.result.type !== "range") continue;
    // A read of an older revision speaks through its snapshot.
    if (op.kind !== "snapshot" && (op.kind !== "known" || op.request.revision)) continue;
    const at = op.kind === "snapshot" ? op.before! : o.revision;
    for (const kv of o.result.kvs) yield { op, at, kv };
  }
}

function merge(spans: [number, number][]): [number, number][] {
  spans.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [from, to] of spans) {
    const last = out.at(-1);
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}
