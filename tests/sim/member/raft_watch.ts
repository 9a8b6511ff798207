// Raft's safety properties, watched on the real members between events: at most one leader per
// term, an entry once committed never changes at its index (on any member, across restarts),
// and a new leader holds every entry committed before its term.
//
// An entry counts as committed once some member hands it to its state machine (raft's applied
// index). A leader's own commit index may move before its own fsync of the entry is done (it
// counts itself while it writes, as etcd's raft does); until that fsync completes nothing
// outside it can see the commit, and a leader whose fsync fails stops without applying it.

import { StateType } from "../../../src/raft/mod.ts";
import type { RawNode } from "../../../src/raft/mod.ts";
import { entryHash } from "../invariants.ts";

interface Committed {
  term: number;
  hash: number;
  /** The highest term any member had when the commit was first seen. */
  termBound: number;
}

export class RaftWatch {
  readonly #leaders = new Map<number, bigint>();
  readonly #committed = new Map<number, Committed>();
  /** Per running node, the commit index checked so far. */
  readonly #checked = new WeakMap<RawNode, number>();
  violations: string[] = [];
  leaders = 0;

  /** Looks at every running node; returns false once a violation was found. */
  observe(nodes: { id: bigint; node: RawNode }[]): boolean {
    if (this.violations.length > 0) return false;
    let maxTerm = 0;
    for (const { node } of nodes) maxTerm = Math.max(maxTerm, node.raft.term);
    for (const { id, node } of nodes) {
      this.#commits(id, node, maxTerm);
      if (node.raft.state === StateType.Leader) this.#leader(id, node);
    }
    return this.violations.length === 0;
  }

  #leader(id: bigint, node: RawNode): void {
    const term = node.raft.term;
    const known = this.#leaders.get(term);
    if (known === undefined) {
      this.#leaders.set(term, id);
      this.leaders++;
      this.#completeness(id, node, term);
    } else if (known !== id) {
      this.violations.push(
        `two leaders in term ${term}: ${known.toString(16)}, ${id.toString(16)}`,
      );
    }
  }

  #completeness(id: bigint, node: RawNode, term: number): void {
    const log = node.raft.raftLog;
    const first = log.firstIndex(), last = log.lastIndex();
    for (const [index, c] of this.#committed) {
      if (c.termBound >= term || index < first) continue;
      if (index > last || log.term(index) !== c.term) {
        this.violations.push(
          `leader ${id.toString(16)} of term ${term} lacks entry ${index} (term ${c.term}) ` +
            `committed before its term`,
        );
        return;
      }
    }
  }

  #commits(id: bigint, node: RawNode, maxTerm: number): void {
    const log = node.raft.raftLog;
    const from = Math.max(this.#checked.get(node) ?? 0, log.firstIndex() - 1);
    const to = log.applied;
    if (to <= from) return;
    for (const e of log.slice(from + 1, to + 1, Infinity)) {
      const hash = entryHash(e);
      const seen = this.#committed.get(e.index);
      if (!seen) {
        this.#committed.set(e.index, { term: e.term, hash, termBound: maxTerm });
      } else if (seen.term !== e.term || seen.hash !== hash) {
        this.violations.push(
          `member ${id.toString(16)} has committed entry ${e.index} with term ${e.term}, ` +
            `which was committed with term ${seen.term}${
              seen.term === e.term ? " (other data)" : ""
            }`,
        );
        return;
      }
    }
    this.#checked.set(node, to);
  }
}
