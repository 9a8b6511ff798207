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
import { emptyHardState, emptySnapshot, limitSize, newEntry } from "./util.ts";
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
  // ents[0] is a dummy entry carrying the index and term of the last compacted entry.
  private ents: Entry[] = [newEntry({})];
  // The sum of ents' data lengths (the dummy's is 0), kept as entries come and go.
  private dataBytes = 0;

  /** The log held in memory: its entries and the bytes of their data. */
  stats(): { entries: number; bytes: number } {
    return { entries: this.ents.length - 1, bytes: this.dataBytes };
  }

  private dropData(from: number, to: number): void {
    for (let i = from; i < to; i++) this.dataBytes -= this.ents[i].data.length;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  entries(lo: number, hi: number, maxSize: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw ErrCompacted;
    if (hi > this.lastIndex() + 1) {
      throw new Error(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    }
    if (this.ents.length === 1) throw ErrUnavailable;
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSize);
  }

  term(i: number): number {
    const offset = this.ents[0].index;
    if (i < offset) throw ErrCompacted;
    if (i - offset >= this.ents.length) throw ErrUnavailable;
    return this.ents[i - offset].term;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole content with a snapshot received from the leader. */
  applySnapshot(s: Snapshot): void {
    if (this.snap.metadata.index >= s.metadata.index) throw ErrSnapOutOfDate;
    this.snap = s;
    this.ents = [newEntry({ index: s.metadata.index, term: s.metadata.term })];
    this.dataBytes = 0;
  }

  /** Records a snapshot of the applied state at index i (then compact() may drop the log). */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw ErrSnapOutOfDate;
    const offset = this.ents[0].index;
    if (i > this.lastIndex()) {
      throw new Error(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    }
    this.snap = {
      metadata: {
        index: i,
        term: this.ents[i - offset].term,
        confState: cs ?? this.snap.metadata.confState,
      },
      data,
    };
    return this.snap;
  }

  /** Drops entries before compactIndex; the entry at compactIndex becomes the dummy. */
  compact(compactIndex: number): void {
    const offset = this.ents[0].index;
    if (compactIndex <= offset) throw ErrCompacted;
    if (compactIndex > this.lastIndex()) {
      throw new Error(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    }
    const i = compactIndex - offset;
    const dummy = newEntry({ index: this.ents[i].index, term: this.ents[i].term });
    this.dropData(1, i + 1);
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /** Appends entries, replacing any existing suffix they conflict with. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return;
    if (first > entries[0].index) entries = entries.slice(first - entries[0].index);
    const offset = entries[0].index - this.ents[0].index;
    assert(
      this.ents.length >= offset,
      `missing log entry [last: ${this.lastIndex()}, append at: ${entries[0].index}]`,
    );
    for (let i = 1; i < entries.length; i++) {
      assert(entries[i].index === entries[i - 1].index + 1, `log entries out of order at ${i}`);
    }
    // In place, not concat: the log holds up to --snapshot-count entries and a copy per append
    // would cost O(log) per batch. entries() hands out copies, so no reader sees the change.
    this.dropData(offset, this.ents.length);
    this.ents.length = offset;
    for (const e of entries) {
      this.ents.push(e);
      this.dataBytes += e.data.length;
    }
  }
}
