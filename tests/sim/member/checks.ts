// What a finished simulation must show: a linearizable history, every acknowledged write on
// every member at its revision, members agreeing on HashKV, and no key left under a revoked
// lease.

import {
  checkHistory,
  checkLeaseKeysGone,
  type MemberRead,
  type Operation,
  type RequestOp,
} from "../../robustness/mod.ts";
import type { Cluster } from "./cluster.ts";
import type { SimMember } from "./member.ts";
import { toKv } from "./requests.ts";

const enc = new TextEncoder();
/** The real clock (the simulation's replaces performance.now while it runs). */
const realNow = performance.now.bind(performance);

export interface CheckStats {
  checkerMs: number;
  checkerSteps: number;
}

export async function checkRun(
  cluster: Cluster,
  history: Operation[],
  revokedLeases: number[],
  stats: CheckStats,
): Promise<string[]> {
  const out: string[] = [];
  const started = realNow();
  const kv = checkHistory(history);
  stats.checkerMs = realNow() - started;
  stats.checkerSteps = kv.stats.steps;
  if (!kv.ok) out.push(...kv.violations.map((v) => `linearizability: ${v}`));
  const running = cluster.members.filter((m) => m.serving);
  for (const m of running) out.push(...await ackedWritesOn(cluster, m, history));
  const reads: MemberRead[] = [];
  for (const m of running) {
    const server = m.server!;
    const res = await cluster.time.as(
      m.owner!,
      () =>
        server.kv.range({ key: enc.encode("\0"), rangeEnd: enc.encode("\0"), serializable: true }),
    );
    reads.push({ member: m.name, kvs: res.kvs.map(toKv) });
  }
  out.push(...hashesAgree(cluster, running, reads));
  out.push(...checkLeaseKeysGone(revokedLeases, reads));
  return out;
}

/** The puts an acknowledged write made, each with the revision it answered with. */
function ackedPuts(history: Operation[]): { key: string; value: string; revision: number }[] {
  const out: { key: string; value: string; revision: number }[] = [];
  for (const op of history) {
    if (op.outcome.status !== "ok") continue;
    const { request, outcome } = op;
    let puts: RequestOp[] = [];
    if (request.type === "put") puts = [request];
    else if (request.type === "txn" && outcome.result.type === "txn") {
      puts = outcome.result.succeeded ? request.success : request.failure;
    }
    // In a txn a later op on the same key wins; only the last put of each key is visible.
    const last = new Map<string, string>();
    for (const p of puts) {
      if (p.type === "put") last.set(p.key, p.value);
      else if (p.type === "deleteRange") last.delete(p.key);
    }
    for (const [key, value] of last) out.push({ key, value, revision: outcome.revision });
  }
  return out;
}

/** Every acknowledged put is in `m`'s store at the revision it was acknowledged with. */
async function ackedWritesOn(
  cluster: Cluster,
  m: SimMember,
  history: Operation[],
): Promise<string[]> {
  const out: string[] = [];
  const server = m.server!;
  for (const w of ackedPuts(history)) {
    const res = await cluster.time.as(
      m.owner!,
      () => server.kv.range({ key: enc.encode(w.key), revision: w.revision, serializable: true }),
    ).catch((err: Error) => ({ kvs: [], error: err.message }));
    const kv = res.kvs[0] ? toKv(res.kvs[0]) : undefined;
    if (kv?.value !== w.value || kv.modRevision !== w.revision) {
      out.push(
        `acknowledged put ${w.key}=${w.value} at revision ${w.revision} is missing on ${m.name}` +
          ` (it has ${kv ? `${kv.value} at ${kv.modRevision}` : "nothing"})`,
      );
      if (out.length >= 3) break;
    }
  }
  return out;
}

/** Every member has the same HashKV; when not, what each one's keys are. */
function hashesAgree(cluster: Cluster, running: SimMember[], reads: MemberRead[]): string[] {
  // A proposal a client gave up on may still commit late: compare where all have applied.
  const at = Math.min(...running.map((m) => m.state!.backend.store.rev()));
  const seen = running.map((m) => {
    const h = cluster.time.as(m.owner!, () => m.server!.maintenance.hashKV(at));
    return { name: m.name, revision: h.header.revision, hash: h.hash };
  });
  const first = seen[0];
  if (!first || seen.every((s) => s.hash === first.hash)) return [];
  const keys = (r: MemberRead) =>
    r.kvs.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}/${kv.lease}`).join(" ");
  return [
    `members disagree at revision ${at}: ` +
    `${seen.map((s) => `${s.name} (at ${s.revision}) hash ${s.hash}`)}; ` +
    reads.map((r) => `${r.member}: ${keys(r)}`).join("; "),
  ];
}
