// The member's backend: the MVCC key space plus what etcd keeps beside it in the same database
// (membership, leases, alarms), all written in the store's batch transaction so they commit
// atomically with the consistent index.
import { type AuxBuckets, type Event, MvccStore, restoreSnapshot } from "../mvcc/mod.ts";
import type { LeasePersistence, Lessor } from "../lease/mod.ts";
import { Membership, type MembershipJSON } from "./membership.ts";
import { Alarms } from "./alarms.ts";
import { diskMetrics } from "../metrics/mod.ts";

/** etcd's defaults for --backend-batch-interval and --backend-batch-limit (0 selects them). */
export const DEFAULT_BATCH_INTERVAL_MS = 100;
export const DEFAULT_BATCH_LIMIT = 10_000;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export class Backend {
  store: MvccStore;
  readonly alarms: Alarms;
  /** Longest time applied changes wait in the open batch transaction before it commits. */
  batchIntervalMs = DEFAULT_BATCH_INTERVAL_MS;
  /** Most applied entries in one batch transaction. */
  batchLimit = DEFAULT_BATCH_LIMIT;
  readonly #eventListeners: ((events: Event[]) => void)[] = [];
  #pendingEntries = 0;
  #batchTimer?: ReturnType<typeof setTimeout>;

  constructor(readonly path: string) {
    this.store = new MvccStore(path);
    this.alarms = new Alarms(() => this.aux);
  }

  get aux(): AuxBuckets {
    return this.store.aux();
  }

  /** Events of every applied write; the registration outlives a restore from a snapshot. */
  onEvents(listener: (events: Event[]) => void): void {
    this.#eventListeners.push(listener);
    this.store.onEvents(listener);
  }

  saveMembership(m: Membership): void {
    this.aux.put("members", "membership", utf8.encode(JSON.stringify(m.toJSON())));
  }

  loadMembership(): Membership | undefined {
    const raw = this.aux.get("members", "membership");
    if (!raw) return undefined;
    return Membership.fromJSON(JSON.parse(fromUtf8.decode(raw)) as MembershipJSON);
  }

  leasePersistence(): LeasePersistence {
    const key = (id: bigint) => id.toString(16).padStart(16, "0");
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
    this.store.commit(opts);
    if (pending) diskMetrics.backendCommitSeconds.observe((performance.now() - start) / 1000);
  }

  /** Replaces the whole database with a snapshot received from the leader. */
  restore(dbBytes: Uint8Array): void {
    this.store.close();
    restoreSnapshot(this.path, dbBytes);
    this.store = new MvccStore(this.path);
    for (const l of this.#eventListeners) this.store.onEvents(l);
  }

  close(): void {
    this.commit({ sync: true });
    this.store.close();
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
