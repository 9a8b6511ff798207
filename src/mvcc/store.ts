// etcd's revisioned key space on node:sqlite. One store per member; single-threaded: the
// server applies committed entries through write txns and commits the batch transaction
// periodically (see Backend for the durability contract).
import { MvccError } from "./errors.ts";
import { assert } from "../assert/mod.ts";
import { countRange, diskMetrics, mvccMetrics, secondsSince } from "../metrics/mod.ts";
import type { TxnTally } from "../metrics/mod.ts";
import { Backend } from "./backend.ts";
import { type AuxBuckets, auxBuckets } from "./aux.ts";
import { Compactor } from "./compact.ts";
import { hashAll, hashByRev } from "./hash.ts";
import { eventsBetween } from "./history.ts";
import { binaryToBytes, keyRange } from "./key_range.ts";
import { rangeKeys, readTxn } from "./read.ts";
import { HistoryCursor, loadHistory, type StoredChange } from "./stored_history.ts";
import { IdSet, TreeIndex } from "./tree_index.ts";
import {
  DEFAULT_COMPACTION_BATCH,
  type EventListener,
  type HashKV,
  type ReadTxn,
  type StoreOptions,
} from "./kv.ts";
import type { Event, RangeOptions, RangeResult } from "./types.ts";
import { type TxnHost, WriteTxn } from "./write_txn.ts";

export class MvccStore {
  private readonly be: Backend;
  private readonly auxiliary: AuxBuckets;
  private readonly compactor: Compactor;
  private readonly host: TxnHost;
  // The key index, built when the store opens (and after a load, when first needed).
  private index?: TreeIndex;
  private readonly listeners = new Set<EventListener>();
  private currentRev: number;
  private compactRev: number;
  private compactDone: number;
  private ci: number;
  private nextId: number;
  private txn?: WriteTxn;
  private dirty = false; // something to commit beyond the batch's data
  private committedSize = { total: 0, inUse: 0 }; // dbSize() and dbSizeInUse() at the last commit
  private timer?: ReturnType<typeof setTimeout>;
  private historyReaders = 0; // open HistoryCursors: physical compaction waits for them
  private batch: number;
  private readonly pauseMs: number;
  private readonly autoCompact: boolean;
  private readonly onCompactionBatch?: StoreOptions["onCompactionBatch"];
  private readonly onCommitError?: StoreOptions["onCommitError"];

  // `path` is a file path or ":memory:".
  constructor(path: string, opts: StoreOptions = {}) {
    this.be = new Backend(path);
    this.auxiliary = auxBuckets(this.be);
    this.batch = opts.compactionBatch ?? DEFAULT_COMPACTION_BATCH;
    this.pauseMs = opts.compactionPauseMs ?? 1;
    this.autoCompact = opts.autoCompact ?? true;
    this.onCompactionBatch = opts.onCompactionBatch;
    this.onCommitError = opts.onCommitError;
    const meta = this.be.readMeta();
    this.ci = meta.consistentIndex;
    this.compactRev = meta.compactRev;
    this.compactDone = meta.compactDone;
    this.committedSize = this.be.sizes();
    this.compactor = new Compactor(this.be);
    const { maxMain, maxId, kept } = this.loadIndex();
    this.currentRev = Math.max(meta.rev, maxMain, this.compactRev, 1);
    this.nextId = maxId + 1;
    const keyIndex = () => this.keyIndex();
    this.host = {
      be: this.be,
      get index() {
        return keyIndex();
      },
      compactRevision: () => this.compactRev,
      takeId: () => this.nextId++,
      finish: (txn, events) => this.finish(txn, events),
    };
    // A compaction interrupted by a restart resumes, as in etcd.
    if (this.compactDone < this.compactRev) this.startPhysical(kept);
  }

  // Builds the key index from the stored rows and compacts it at the compaction revision (rows
  // physical compaction has not removed yet are no longer history); returns the rows that
  // compaction keeps, and the highest revision and row id seen.
  private loadIndex(): { maxMain: number; maxId: number; kept: IdSet } {
    const { index, maxMain, maxId } = TreeIndex.load(this.be);
    this.index = index;
    const kept = this.compactRev > 0 ? index.compact(this.compactRev) : new IdSet();
    return { maxMain, maxId, kept };
  }

  private keyIndex(): TreeIndex {
    if (this.index === undefined) this.loadIndex();
    return this.index!;
  }

  // The buckets beside the key space (membership, leases, alarms), in the batch transaction.
  aux(): AuxBuckets {
    return this.auxiliary;
  }

  // The current revision: 1 on a new store, +1 per write txn that changed something.
  rev(): number {
    return this.currentRev;
  }

  // The logical compaction revision; -1 if never compacted (etcd reports it so).
  compactRevision(): number {
    return this.compactRev;
  }

  // Index of the last raft entry applied (as last set, committed or not).
  consistentIndex(): number {
    return this.ci;
  }

  // Call after applying entry `index` (every entry, also those that changed no key). The
  // value is persisted by the next commit(), with all data changes made before it.
  setConsistentIndex(index: number): void {
    if (index === this.ci) return;
    // Entries apply in log order: a smaller index would replay them after a restart.
    assert(index > this.ci, `consistent index ${index} after ${this.ci}`);
    this.ci = index;
    this.dirty = true;
  }

  // Commits the batch transaction with the consistent index. Call it between entries only
  // (never inside an entry's apply): periodically, before snapshots, before close. `sync`
  // additionally forces the SQLite WAL to disk (before raft log entries are released).
  commit(opts: { sync?: boolean } = {}): void {
    this.assertNoTxn();
    if (!this.dirty && !this.be.inTransaction()) {
      // An earlier batch committed unsynced, and the caller may release raft entries it holds.
      if (opts.sync) this.be.sync();
      return;
    }
    const meta = {
      consistentIndex: this.ci,
      rev: this.currentRev,
      compactRev: this.compactRev,
      compactDone: this.compactDone,
    };
    try {
      this.be.commit(meta, opts.sync ?? false);
    } catch (err) {
      this.onCommitError?.(err);
      throw err;
    }
    this.dirty = false;
    this.committedSize = this.be.sizes();
  }

  // Whether there are applied changes not yet committed.
  pendingCommit(): boolean {
    return this.dirty || this.be.inTransaction();
  }

  range(key: Uint8Array, rangeEnd?: Uint8Array, opts: RangeOptions = {}): RangeResult {
    this.assertNoTxn();
    countRange();
    const r = keyRange(key, rangeEnd);
    return rangeKeys(this.be, this.keyIndex(), r, this.currentRev, this.compactRev, opts);
  }

  // Starts a read txn: its ranges read the current revision, so nothing may change before it
  // ends (or hands its tally to a write txn that finishes its work).
  read(): ReadTxn {
    this.assertNoTxn();
    return readTxn(this.be, this.keyIndex(), this.currentRev, this.compactRev);
  }

  // Starts the write txn of one request; only one may be open at a time. `tally` continues the
  // counts of a read txn whose work this txn finishes.
  write(tally?: TxnTally): WriteTxn {
    this.assertNoTxn();
    this.txn = new WriteTxn(this.host, this.currentRev, tally);
    return this.txn;
  }

  // Keys that exist now.
  keyCount(): number {
    return this.keyIndex().keyCount;
  }

  private finish(txn: WriteTxn, events: Event[]): void {
    assert(txn === this.txn, "mvcc: the write txn ending is the open one");
    this.txn = undefined;
    if (events.length === 0) return;
    // One revision per write txn that changed something, never reused.
    assert(
      txn.beginRev === this.currentRev,
      `write txn began at ${txn.beginRev}, not at the current revision ${this.currentRev}`,
    );
    this.currentRev = txn.beginRev + 1;
    this.dirty = true;
    for (const l of this.listeners) l(events);
  }

  // Listeners get the events of every write txn that changed something, when it ends
  // (before the batch is committed; reads already see the changes).
  onEvents(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // History for watchers catching up: changes in [fromRev, toRev] to keys in the range,
  // in apply order, with prevKv; at most `limit` events (0 = all), so the last revision may be
  // cut short. fromRev below the compaction revision -> compacted error.
  eventsBetween(
    key: Uint8Array,
    rangeEnd: Uint8Array | undefined,
    fromRev: number,
    toRev: number,
    limit = 0,
  ): { events: Event[] } {
    this.assertNoTxn();
    const r = keyRange(key, rangeEnd);
    const index = this.keyIndex();
    return { events: eventsBetween(this.be, index, r, fromRev, toRev, limit, this.compactRev) };
  }

  // Logical compaction at `rev`: reads below it fail from now on. Physical removal follows
  // in batches; the promise resolves when it is done (what a `physical` Compact waits for).
  compact(rev: number): Promise<void> {
    this.assertNoTxn();
    if (rev <= this.compactRev) throw new MvccError("compacted");
    if (rev > this.currentRev) throw new MvccError("futureRev");
    const start = performance.now();
    this.compactRev = rev;
    this.dirty = true;
    const kept = this.keyIndex().compact(rev);
    mvccMetrics.indexCompactionPauseMs.observe(Math.floor(performance.now() - start));
    return this.startPhysical(kept);
  }

  private startPhysical(kept: IdSet): Promise<void> {
    const done = this.compactor.start(this.compactRev, kept);
    this.schedule();
    return done;
  }

  // Resolves when the physical compaction in progress, if any (one resumed on open, say), is
  // done.
  physicalCompaction(): Promise<void> {
    return this.compactor.finished();
  }

  // Revisions examined per physical compaction batch from now on (0 or less: etcd's 1000).
  set compactionBatchLimit(limit: number) {
    this.batch = limit > 0 ? limit : DEFAULT_COMPACTION_BATCH;
  }

  // --unsafe-no-fsync: commits never force the files to disk (a crash may lose them).
  set unsafeNoFsync(on: boolean) {
    this.be.setNoFsync(on);
  }

  // One batch of physical compaction; true when none remains. Nothing is removed while a
  // history cursor is open (the batch runs once the last one closes).
  compactStep(batch = this.batch): boolean {
    this.assertNoTxn();
    if (this.historyReaders > 0) return !this.compactor.pending();
    const start = performance.now();
    const step = this.compactor.step(batch);
    if (step?.finished) {
      this.compactDone = step.target;
      this.dirty = true;
    }
    if (step) this.onCompactionBatch?.(step, performance.now() - start);
    return !this.compactor.pending();
  }

  private schedule(): void {
    if (!this.autoCompact || this.timer !== undefined || this.historyReaders > 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.compactStep()) this.schedule();
    }, this.pauseMs);
  }

  // Maintenance.Hash: see hashAll for why it is not etcd's value.
  hash(): number {
    this.assertNoTxn();
    return hashAll(this.be, this.compactRev);
  }

  // etcd's HashKV, the same value etcd computes for the same history: `rev` 0 = current; at
  // or below the compaction point -> compacted error.
  hashKV(rev: number): HashKV {
    this.assertNoTxn();
    if (rev > 0 && rev <= this.compactRev) throw new MvccError("compacted");
    if (rev > this.currentRev) throw new MvccError("futureRev");
    const at = rev > 0 ? rev : this.currentRev;
    const hash = hashByRev(this.be, this.keyIndex(), at, this.compactRev);
    return { hash, compactRevision: this.compactRev, rev: this.currentRev };
  }

  /**
   * Opens a read of the stored history as of now (changes not yet committed included, with
   * the consistent index they go with), for streaming a snapshot out while entries keep being
   * applied. Close it: physical compaction waits until every cursor is closed.
   */
  openHistory(): HistoryCursor {
    this.assertNoTxn();
    this.historyReaders++;
    const point = {
      rev: this.currentRev,
      compactRev: this.compactRev,
      compactDone: this.compactDone,
      consistentIndex: this.ci,
    };
    return new HistoryCursor(this.be, point, () => {
      if (--this.historyReaders === 0 && this.compactor.pending()) this.schedule();
    });
  }

  /**
   * Fills this empty store with a history read from elsewhere (an etcd backend) and its
   * compaction points; the consistent index is set and committed by the caller.
   */
  loadHistory(changes: Iterable<StoredChange>, compactRev: number, compactDone: number): void {
    this.assertNoTxn();
    const maxMain = loadHistory(this.be, changes);
    this.compactRev = compactRev;
    this.compactDone = compactDone;
    this.currentRev = Math.max(maxMain, compactRev, 1);
    this.nextId = this.be.maxId() + 1;
    this.dirty = true;
    // Rebuilt when first needed: a store loaded to be written out never needs it.
    this.index = undefined;
    if (this.compactDone < this.compactRev) this.startPhysical(this.loadIndex().kept);
  }

  // Stored revisions of all keys (tombstones included): what compaction shrinks.
  revisionCount(): number {
    return this.be.revisionCount();
  }

  // Keys that carry a lease, for rebuilding the lessor's key lists on start.
  leasedKeys(): { key: Uint8Array; lease: bigint }[] {
    return this.keyIndex().leased().map(({ key, lease }) => ({ key: binaryToBytes(key), lease }));
  }

  // Bytes the database file takes, and how many of them hold data (the rest is free pages).
  // As of the last commit, like bbolt's size in etcd: every write checks it against the quota,
  // and asking SQLite each time cost more than the rest of the check.
  dbSize(): number {
    return this.committedSize.total;
  }

  dbSizeInUse(): number {
    return this.committedSize.inUse;
  }

  // Commits, then rewrites the file without free pages.
  defrag(): void {
    const start = performance.now();
    diskMetrics.defragInflight.set(1);
    try {
      this.commit();
      this.be.db.exec("VACUUM");
      this.committedSize = this.be.sizes();
    } finally {
      diskMetrics.defragInflight.set(0);
    }
    diskMetrics.defragSeconds.observe(secondsSince(start));
  }

  // Commits, then writes a compact copy of the whole database (consistent index included)
  // to `path`, which must not exist: the raft snapshot / `snapshot save` payload.
  snapshotTo(path: string): void {
    this.commit();
    this.be.run("VACUUM INTO ?", path);
  }

  snapshotBytes(): Uint8Array {
    const start = performance.now();
    const dir = Deno.makeTempDirSync({ prefix: "mvcc-snap-" });
    try {
      const file = `${dir}/db`;
      this.snapshotTo(file);
      return Deno.readFileSync(file);
    } finally {
      Deno.removeSync(dir, { recursive: true });
      diskMetrics.snapshotSeconds.observe(secondsSince(start));
    }
  }

  // Drops uncommitted changes (commit first to keep them) and stops background work.
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.txn = undefined;
    this.be.close();
  }

  private assertNoTxn(): void {
    assert(this.txn === undefined, "mvcc: no write txn is open");
  }
}
