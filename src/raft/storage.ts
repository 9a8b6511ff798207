// Storage: the durable part of the log as Raft reads it. MemoryStorage keeps it in memory; a
// server fills it from its WAL on start and appends to it after each persisted Ready.

import {
  type ConfState,
  type Entry,
  ErrCompacted,
  ErrSnapOutOfDate,
  ErrUnavailable,
  type HardState,
  type Snapshot,
} from "./types.ts";
import { emptyHardState, emptySnapshot } from "./util.ts";
import { PackedEntries } from "./packed_entries.ts";
import { assert } from "../assert/mod.ts";

export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at most maxSize bytes but at least one; throws ErrCompacted. */
  entries(lo: number, hi: number, maxSize: number): Entry[];
  /** Term of entry i; throws ErrCompacted or ErrUnavailable. */
  term(i: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

export class MemoryStorage implements Storage {
  private hardState: HardState = emptyHardState();
  private snap: Snapshot = emptySnapshot();
  // The index and term of the last compacted entry (etcd's dummy entry ents[0]); the entries
  // held follow it.
  private offset = 0;
  private offsetTerm = 0;
  private ents = new PackedEntries(1);

  /** The log held in memory: its entries and the bytes of the slabs holding their data. */
  stats(): { entries: number; bytes: number } {
    return { entries: this.ents.length, bytes: this.ents.bytes().slabs };
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    if (lo <= this.offset) throw ErrCompacted;
    if (hi > this.lastIndex() + 1) {
      throw new Error(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    }
    if (this.ents.length === 0) throw ErrUnavailable;
    return this.ents.slice(lo - this.offset - 1, hi - this.offset - 1, maxSize);
  }

  term(i: number): number {
    if (i < this.offset) throw ErrCompacted;
    if (i > this.lastIndex()) throw ErrUnavailable;
    return i === this.offset ? this.offsetTerm : this.ents.term(i - this.offset - 1);
  }

  lastIndex(): number {
    return this.offset + this.ents.length;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole content with a snapshot received from the leader. */
  applySnapshot(s: Snapshot): void {
    if (this.snap.metadata.index >= s.metadata.index) throw ErrSnapOutOfDate;
    this.snap = s;
    this.offset = s.metadata.index;
    this.offsetTerm = s.metadata.term;
    this.ents = new PackedEntries(this.offset + 1);
  }

  /** Records a snapshot of the applied state at index i (then compact() may drop the log). */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw ErrSnapOutOfDate;
    if (i > this.lastIndex()) {
      throw new Error(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    }
    this.snap = {
      metadata: { index: i, term: this.term(i), confState: cs ?? this.snap.metadata.confState },
      data,
    };
    return this.snap;
  }

  /** Drops entries up to compactIndex, which becomes the last compacted entry. */
  compact(compactIndex: number): void {
    if (compactIndex <= this.offset) throw ErrCompacted;
    if (compactIndex > this.lastIndex()) {
      throw new Error(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    }
    const term = this.term(compactIndex);
    this.ents.dropFront(compactIndex - this.offset);
    this.offset = compactIndex;
    this.offsetTerm = term;
  }

  /** Appends entries, replacing any existing suffix they conflict with. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return;
    if (first > entries[0].index) entries = entries.slice(first - entries[0].index);
    const keep = entries[0].index - first;
    assert(
      this.ents.length >= keep,
      `missing log entry [last: ${this.lastIndex()}, append at: ${entries[0].index}]`,
    );
    for (let i = 1; i < entries.length; i++) {
      assert(entries[i].index === entries[i - 1].index + 1, `log entries out of order at ${i}`);
    }
    // The entries' data is copied into the log's slabs: the log holds up to --snapshot-count
    // entries, and an Entry of its own costs several hundred bytes besides its data.
    this.ents.truncate(keep);
    for (const e of entries) this.ents.push(e);
  }
}
