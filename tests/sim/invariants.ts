// Safety properties checked by the simulator against every node's log and state machine.

import type { RawNode } from "../../src/raft/mod.ts";
import type { Entry } from "../../src/raft/mod.ts";

export class SafetyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetyError";
  }
}

export function fnv(h: number, bytes: Uint8Array): number {
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

export function entryHash(e: Entry): number {
  let h = fnv(2166136261, e.data);
  h = Math.imul(h ^ e.term, 16777619) >>> 0;
  return Math.imul(h ^ e.type, 16777619) >>> 0;
}

export function chain(prev: number, e: Entry): number {
  return Math.imul(prev ^ entryHash(e), 2654435761) >>> 0;
}

interface CommitRecord {
  term: number;
  hash: number;
  /** Highest term any node had when the commit was first seen: a bound on the commit term. */
  termBound: number;
}

/** Global knowledge the checks accumulate across the run. */
export class History {
  leaderOfTerm = new Map<number, bigint>();
  committed = new Map<number, CommitRecord>();
  chainAt = new Map<number, number>();
  maxCommitted = 0;

  /** Election safety: at most one leader per term. Returns true for a newly seen leader. */
  observeLeader(term: number, id: bigint): boolean {
    const prev = this.leaderOfTerm.get(term);
    if (prev === undefined) {
      this.leaderOfTerm.set(term, id);
      return true;
    }
    if (prev !== id) throw new SafetyError(`two leaders in term ${term}: ${prev} and ${id}`);
    return false;
  }

  /** State-machine safety: every node applies the same entry at each index. */
  observeApply(node: bigint, e: Entry, chainValue: number, termBound: number): void {
    const h = entryHash(e);
    const rec = this.committed.get(e.index);
    if (rec === undefined) {
      this.committed.set(e.index, { term: e.term, hash: h, termBound });
      this.maxCommitted = Math.max(this.maxCommitted, e.index);
    } else if (rec.term !== e.term || rec.hash !== h) {
      throw new SafetyError(
        `node ${node} applied a different entry at index ${e.index} (term ${e.term}, was ${rec.term})`,
      );
    }
    this.observeChain(node, e.index, chainValue);
  }

  /** Applied prefixes agree: the running hash of the state machine matches at each index. */
  observeChain(node: bigint, index: number, value: number): void {
    const prev = this.chainAt.get(index);
    if (prev === undefined) this.chainAt.set(index, value);
    else if (prev !== value) {
      throw new SafetyError(`node ${node} state machine diverged at applied index ${index}`);
    }
  }

  /** Leader completeness: a new leader holds every entry committed in an earlier term. */
  checkLeaderCompleteness(rn: RawNode, term: number): void {
    const log = rn.raft.raftLog;
    const first = log.firstIndex();
    for (const [index, rec] of this.committed) {
      if (rec.termBound >= term || index < first) continue;
      if (index > log.lastIndex() || log.term(index) !== rec.term) {
        throw new SafetyError(
          `leader ${rn.raft.id} of term ${term} lacks committed entry ${index} (term ${rec.term})`,
        );
      }
    }
  }
}

/** Log matching: if two logs share an entry's index and term, they agree on everything before. */
export function checkLogMatching(a: RawNode, b: RawNode): void {
  const la = a.raft.raftLog, lb = b.raft.raftLog;
  const lo = Math.max(la.firstIndex(), lb.firstIndex());
  const hi = Math.min(la.lastIndex(), lb.lastIndex());
  if (lo > hi) return;
  const ea = la.slice(lo, hi + 1, Infinity), eb = lb.slice(lo, hi + 1, Infinity);
  let i = ea.length - 1;
  while (i >= 0 && ea[i].term !== eb[i].term) i--;
  for (; i >= 0; i--) {
    if (ea[i].term !== eb[i].term || entryHash(ea[i]) !== entryHash(eb[i])) {
      throw new SafetyError(
        `log matching violated between ${a.raft.id} and ${b.raft.id} at index ${ea[i].index}`,
      );
    }
  }
}
