// RaftLog: the log as one sequence, stitched from Storage (durable) and Unstable (not yet
// persisted), with the commit and apply cursors.

import {
  type Entry,
  ErrCompacted,
  ErrUnavailable,
  type RaftLogger,
  type Snapshot,
} from "./types.ts";
import type { Storage } from "./storage.ts";
import { Unstable } from "./unstable.ts";
import { assert } from "../assert/mod.ts";
import { limitSize, noLimit } from "./util.ts";

export class RaftLog {
  unstable: Unstable;
  committed: number;
  applied: number;

  constructor(
    public storage: Storage,
    private logger: RaftLogger,
    private maxNextEntsSize = noLimit,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1, logger);
    // Everything before the first stored entry is in a snapshot, hence committed and applied.
    this.committed = first - 1;
    this.applied = first - 1;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, unstable.offset=${this.unstable.offset}, len(unstable.Entries)=${this.unstable.entries.length}`;
  }

  /**
   * Appends `ents` after (index, logTerm) if that entry matches ours, truncating a conflicting
   * suffix; returns the index of the last new entry, or undefined when the match fails.
   */
  maybeAppend(
    index: number,
    logTerm: number,
    committed: number,
    ents: Entry[],
  ): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastnewi = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      assert(
        ci > this.committed,
        `entry ${ci} conflict with committed entry [committed(${this.committed})]`,
      );
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastnewi));
    return lastnewi;
  }

  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0].index - 1;
    assert(
      after >= this.committed,
      `after(${after}) is out of range [committed(${this.committed})]`,
    );
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** Index of the first entry whose term differs from ours (or that we lack), else 0. */
  findConflict(ents: Entry[]): number {
    for (const ne of ents) {
      if (!this.matchTerm(ne.index, ne.term)) {
        if (ne.index <= this.lastIndex()) {
          this.logger.info(
            `found conflict at index ${ne.index} [existing term: ${
              this.zeroTermOnErrCompacted(ne.index)
            }, conflicting term: ${ne.term}]`,
          );
        }
        return ne.index;
      }
    }
    return 0;
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  /** Committed entries not yet applied, bounded by maxNextEntsSize. */
  nextEnts(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > off) return this.slice(off, this.committed + 1, this.maxNextEntsSize);
    return [];
  }

  hasNextEnts(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(tocommit: number): void {
    if (this.committed >= tocommit) return; // never decrease commit
    assert(
      tocommit <= this.lastIndex(),
      `tocommit(${tocommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
    );
    this.committed = tocommit;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    assert(
      i <= this.committed && i >= this.applied,
      `applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`,
    );
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** Term of entry i; 0 when i is outside the log; throws ErrCompacted if compacted away. */
  term(i: number): number {
    // The valid range is [index of dummy entry, last index].
    const dummyIndex = this.firstIndex() - 1;
    if (i < dummyIndex || i > this.lastIndex()) return 0;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    return this.storage.term(i);
  }

  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSize);
  }

  allEntries(): Entry[] {
    for (;;) {
      try {
        return this.entries(this.firstIndex(), noLimit);
      } catch (err) {
        // Compaction raced with the read: try again from the new first index.
        if (err !== ErrCompacted) throw err;
      }
    }
  }

  /** Whether a log ending at (lasti, term) is at least as up to date as ours (Raft §5.4.1). */
  isUpToDate(lasti: number, term: number): boolean {
    const lastTerm = this.lastTerm();
    return term > lastTerm || (term === lastTerm && lasti >= this.lastIndex());
  }

  matchTerm(i: number, term: number): boolean {
    try {
      return this.term(i) === term;
    } catch {
      return false;
    }
  }

  /** Commits maxIndex only if it is from `term`: earlier terms commit indirectly (Raft §5.4.2). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.zeroTermOnErrCompacted(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.logger.info(
      `log [${this}] starts to restore snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`,
    );
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries in [lo, hi) up to maxSize bytes; throws ErrCompacted if lo was compacted. */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const offset = this.unstable.offset;
    if (lo < offset) {
      let stored: Entry[];
      try {
        stored = this.storage.entries(lo, Math.min(hi, offset), maxSize);
      } catch (err) {
        if (err === ErrUnavailable) {
          throw new Error(`entries[${lo}:${Math.min(hi, offset)}) is unavailable from storage`);
        }
        throw err;
      }
      // Storage stopped short because of the size limit: do not look further.
      if (stored.length < Math.min(hi, offset) - lo) return stored;
      ents = stored;
    }
    if (hi > offset) {
      const u = this.unstable.slice(Math.max(lo, offset), hi);
      ents = ents.length > 0 ? ents.concat(u) : u;
    }
    return limitSize(ents, maxSize);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) throw new Error(`invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw ErrCompacted;
    const length = this.lastIndex() + 1 - fi;
    if (hi > fi + length) {
      throw new Error(`slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`);
    }
  }

  zeroTermOnErrCompacted(i: number): number {
    try {
      return this.term(i);
    } catch (err) {
      if (err === ErrCompacted) return 0;
      throw err;
    }
  }
}
