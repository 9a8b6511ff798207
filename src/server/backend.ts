// The member's backend: the MVCC key space plus what etcd keeps beside it in the same database
// (membership, leases, alarms, the v2 store), all written in the store's batch transaction so
// they commit atomically with the consistent index.
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type AuxBuckets, type CompactionBatch, type Event, MvccStore } from "../mvcc/mod.ts";
import type { LeasePersistence, Lessor } from "../lease/mod.ts";
import { Alarms } from "./alarms.ts";
import { mvccMetrics, observeBackendCommit, secondsSince } from "../metrics/mod.ts";
import { failpoints, hitSync } from "../failpoint/mod.ts";
import { formatGoDuration } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Wal } from "../storage/mod.ts";

/** etcd's defaults for --backend-batch-interval and --backend-batch-limit (0 selects them). */
export const DEFAULT_BATCH_INTERVAL_MS = 100;
export const DEFAULT_BATCH_LIMIT = 10_000;

/** Indexes of conf changes refused where they were applied (etcd keeps no such record: it
 * replays them from its snapshot's membership, which etcd-ts need not keep). */
const REFUSED_CONF_CHANGES = "conf_changes_refused";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** What the flags set on every store this backend opens (also after a restore). */
export interface StoreSettings {
  /** --experimental-compaction-batch-limit (0: etcd's 1000). */
  compactionBatchLimit: number;
  /** --unsafe-no-fsync. */
  unsafeNoFsync: boolean;
}

export class Backend {
  store: MvccStore;
  readonly alarms: Alarms;
  /** Longest time applied changes wait in the open batch transaction before it commits. */
  batchIntervalMs = DEFAULT_BATCH_INTERVAL_MS;
  /** Most applied entries in one batch transaction. */
  batchLimit = DEFAULT_BATCH_LIMIT;
  /** Told when a physical compaction has finished (etcd logs it). */
  compactionFinished?: (revision: number, tookMs: number) => void;
  /**
   * A commit failed (a batch's, or one the store made before a snapshot or a compaction):
   * what reached the file is unknown, so the member must stop (it replays the log on restart).
   * Called before the error is thrown to the committer, which a timer may be.
   */
  onCommitError: (err: unknown) => void = () => {};
  readonly #eventListeners: ((events: Event[]) => void)[] = [];
  #pendingEntries = 0;
  #batchTimer?: ReturnType<typeof setTimeout>;
  #settings: StoreSettings = { compactionBatchLimit: 0, unsafeNoFsync: false };
  /** The physical compaction in progress: its revision and when its first batch started. */
  #compacting?: { target: number; startedAt: number };

  constructor(readonly path: string) {
    this.store = this.#open();
    this.alarms = new Alarms(() => this.aux);
  }

  #open(): MvccStore {
    const store = new MvccStore(this.path, {
      onCompactionBatch: (batch, ms) => this.#compacted(batch, ms),
      // Commits the store makes itself (before a snapshot, a compaction) stop the member too.
      onCommitError: (err) => this.onCommitError(err),
    });
    store.compactionBatchLimit = this.#settings.compactionBatchLimit;
    if (this.#settings.unsafeNoFsync) store.unsafeNoFsync = true;
    return store;
  }

  configure(settings: StoreSettings): void {
    this.#settings = { ...settings };
    this.store.compactionBatchLimit = settings.compactionBatchLimit;
    this.store.unsafeNoFsync = settings.unsafeNoFsync;
  }

  // etcd's metrics of physical compaction: a pause per full batch, the keys removed, the total.
  #compacted(batch: CompactionBatch, ms: number): void {
    const now = performance.now();
    if (this.#compacting?.target !== batch.target) {
      this.#compacting = { target: batch.target, startedAt: now - ms };
    }
    mvccMetrics.dbCompactionKeys.inc(batch.deleted);
    if (!batch.finished) {
      mvccMetrics.dbCompactionPauseMs.observe(Math.floor(ms));
      return;
    }
    const took = now - this.#compacting.startedAt;
    this.#compacting = undefined;
    mvccMetrics.dbCompactionTotalMs.observe(Math.floor(took));
    this.compactionFinished?.(batch.target, took);
  }

  get aux(): AuxBuckets {
    return this.store.aux();
  }

  /** Events of every applied write; the registration outlives a restore from a snapshot. */
  onEvents(listener: (events: Event[]) => void): void {
    this.#eventListeners.push(listener);
    this.store.onEvents(listener);
  }

  /** Records that the conf change at `index` was refused where it was applied. */
  refuseConfChange(index: number): void {
    this.aux.put(REFUSED_CONF_CHANGES, String(index).padStart(20, "0"), new Uint8Array());
  }

  /** Whether the conf change at `index` was refused (a restart applies it again). */
  confChangeRefused(index: number): boolean {
    return this.aux.get(REFUSED_CONF_CHANGES, String(index).padStart(20, "0")) !== undefined;
  }

  leasePersistence(): LeasePersistence {
    // Keys are the ID as an unsigned 64-bit hex number, so negative (int64) IDs fit too.
    const key = (id: bigint) => BigInt.asUintN(64, id).toString(16).padStart(16, "0");
    // "<ttl>", or "<ttl>/<remaining TTL>" once a checkpoint was persisted.
    const value = (ttl: number, remaining = 0) => remaining > 0 ? `${ttl}/${remaining}` : `${ttl}`;
    return {
      saveLease: (id, ttl, remaining) =>
        this.aux.put("lease", key(id), utf8.encode(value(ttl, remaining))),
      deleteLease: (id) => this.aux.delete("lease", key(id)),
      loadLeases: () =>
        this.aux.list("lease").map(([k, v]) => {
          const [ttl, remaining = "0"] = fromUtf8.decode(v).split("/");
          return {
            id: BigInt.asIntN(64, BigInt("0x" + k)),
            ttl: Number(ttl),
            remainingTTL: Number(remaining),
          };
        }),
    };
  }

  /**
   * Called after each applied run of entries. Like etcd's backend, changes commit in batches
   * (every batchIntervalMs or batchLimit entries) rather than per apply: the raft WAL already
   * holds them durably, and the consistent index commits with them, so a crash only replays
   * the uncommitted tail from the log. A commit writes every page the batch dirtied, so
   * fewer, larger ones cost less per entry (measured: ~1 ms per 30-entry apply run).
   */
  applied(entries: number): void {
    this.#pendingEntries += entries;
    if (this.#pendingEntries >= this.batchLimit) this.commit();
    else this.#batchTimer ??= setTimeout(() => this.commit(), this.batchIntervalMs);
  }

  /** Commits the batch transaction now (between applies only). */
  commit(opts: { sync?: boolean } = {}): void {
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    this.#pendingEntries = 0;
    const start = performance.now();
    const pending = this.store.pendingCommit();
    try {
      if (failpoints.on) hitSync("beforeCommit");
      this.store.commit(opts);
      if (failpoints.on) hitSync("afterCommit");
    } catch (err) {
      this.onCommitError(err);
      throw err;
    }
    if (pending) observeBackendCommit(secondsSince(start));
  }

  /**
   * Replaces the whole database with the one at `path` (closed, committed), which takes its
   * place in one rename, durable once this returns: a snapshot's, received from the leader.
   */
  replaceWith(path: string): void {
    this.store.close();
    for (const f of [`${this.path}-wal`, `${this.path}-shm`]) {
      try {
        Deno.removeSync(f);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    Deno.renameSync(path, this.path);
    using dir = Deno.openSync(dirname(this.path), { read: true });
    dir.syncSync();
    this.store = this.#open();
    for (const l of this.#eventListeners) this.store.onEvents(l);
  }

  close(): void {
    this.commit({ sync: true });
    this.store.close();
  }
}

/**
 * --unsafe-no-fsync and the compaction batch limit, for the log and the backend; and etcd's
 * line when a physical compaction is done.
 */
export function configureStorage(
  backend: Backend,
  wal: Wal,
  log: Logger,
  settings: StoreSettings,
): void {
  backend.configure(settings);
  wal.unsafeNoFsync = settings.unsafeNoFsync;
  backend.compactionFinished = (rev, tookMs) => {
    const took = formatGoDuration(tookMs);
    log.info({
      pkg: "mvcc",
      text: `finished scheduled compaction at ${rev} (took ${took})`,
      msg: "finished scheduled compaction",
      fields: { "compact-revision": rev, took },
    });
  };
}

/**
 * Checks the structure of the backend file before the member trusts it (SQLite's quick_check:
 * every page of every b-tree is read). A damaged page would otherwise only show when a request
 * happens to read it. Throws with SQLite's first complaint; a missing file passes.
 */
export function verifyBackendFile(path: string): void {
  const db = new DatabaseSync(path);
  try {
    const rows = db.prepare("PRAGMA quick_check(1)").all() as { quick_check: string }[];
    const verdict = (rows[0]?.quick_check ?? "ok").replace(/\s*\n\s*/g, " ");
    if (verdict !== "ok") throw new Error(`database disk image is malformed (${verdict})`);
  } finally {
    db.close();
  }
}

/** Rebuilds the lessor from the backend: its leases, and the keys attached to each. */
export function reloadLeases(lessor: Lessor, backend: Backend): void {
  lessor.restore();
  for (const { key, lease } of backend.store.leasedKeys()) {
    // A key may outlive its lease's record only if the revoke was never applied; skip it.
    if (lessor.lookup(lease)) lessor.attach(lease, key);
  }
}
