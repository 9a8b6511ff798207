// Drives the pure Raft core: ticks it, and turns each Ready into I/O in the order that keeps
// acknowledged writes durable: send (leader), persist (one WAL append + fsync for the whole batch),
// send (follower), apply, advance. One Ready is in flight at a time; proposals that arrive while
// the fsync runs queue up in Raft and share the next append.
import {
  type Entry,
  EntryType,
  type HardState,
  type MemoryStorage,
  type Message,
  type RawNode,
  type ReadState,
  type Snapshot,
  type SoftState,
} from "../raft/mod.ts";
import type { Snapshotter, Wal } from "../storage/mod.ts";

export interface Transport {
  send(messages: Message[]): void;
  /** When the connection to the peer became usable (ms since the epoch), 0 if it is not. */
  activeSince(id: bigint): number;
}

export interface DriverHooks {
  softState(ss: SoftState): void;
  readStates(rs: ReadState[]): void;
  /** Term, vote and commit index changed (cheap to read later, unlike RawNode.status()). */
  hardState(hs: HardState): void;
  /** A snapshot from the leader replaces the local state (follower catch-up). */
  applySnapshot(snap: Snapshot): Promise<void>;
  applyEntries(entries: Entry[]): void;
  /** After each applied batch: snapshotting and log compaction decisions. */
  afterApply(): Promise<void>;
  /** Persisting failed: the member cannot continue without risking acknowledged writes. */
  fatal(err: unknown): void;
}

export class RaftDriver {
  #timer?: ReturnType<typeof setInterval>;
  #running = false;
  #scheduled = false;
  #idle?: Promise<void>;
  #stopped = false;
  #applying: Promise<void> = Promise.resolve();

  constructor(
    readonly node: RawNode,
    readonly storage: MemoryStorage,
    readonly wal: Wal,
    readonly snapshotter: Snapshotter,
    public transport: Transport,
    readonly hooks: DriverHooks,
    readonly tickMs: number,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      this.node.tick();
      this.kick();
    }, this.tickMs);
    this.kick();
  }

  /** Something changed in Raft (proposal, message, tick): process its Ready soon. */
  kick(): void {
    if (this.#scheduled || this.#running || this.#stopped) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#idle = this.#loop();
    });
  }

  async #loop(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (!this.#stopped && this.node.hasReady()) await this.#process(this.node.ready());
    } catch (err) {
      this.hooks.fatal(err);
    } finally {
      this.#running = false;
    }
  }

  async #process(rd: ReturnType<RawNode["ready"]>): Promise<void> {
    if (rd.hardState) this.hooks.hardState(rd.hardState);
    if (rd.softState) this.hooks.softState(rd.softState);
    if (rd.readStates.length > 0) this.hooks.readStates(rd.readStates);
    // A leader may send its entries while it writes them itself (Raft §10.2.1); anything else
    // (a follower's acknowledgements, a new term or vote) must be durable before it is sent.
    const sendEarly = this.node.maySendBeforePersist(rd);
    if (sendEarly) this.transport.send(rd.messages);
    if (rd.snapshot) {
      await this.snapshotter.save(rd.snapshot);
      await this.wal.saveSnapshot(rd.snapshot.metadata);
    }
    await this.wal.save(rd.hardState, rd.entries, rd.mustSync);
    if (rd.snapshot) {
      // A snapshot replaces the state the queued entries apply to: let them finish first.
      await this.#applying;
      this.storage.applySnapshot(rd.snapshot);
      await this.hooks.applySnapshot(rd.snapshot);
    }
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (!sendEarly) this.transport.send(rd.messages);
    const committed = rd.committedEntries;
    if (committed.length > 0 || rd.snapshot) this.#queueApply(committed);
    // Like etcd, Raft moves on while the entries apply (their fsync is done), so the next
    // batch's fsync overlaps this batch's apply. A conf change must be applied before Raft
    // sees the next Ready, since it changes who Raft talks to.
    if (committed.some((e) => e.type === EntryType.ConfChange)) await this.#applying;
    this.node.advance(rd);
  }

  /** Applies committed entries strictly in log order, after those queued before them. */
  #queueApply(entries: Entry[]): void {
    this.#applying = this.#applying.then(async () => {
      if (entries.length > 0) this.hooks.applyEntries(entries);
      await this.hooks.afterApply();
    }).catch((err) => this.hooks.fatal(err));
  }

  /** Stops ticking and waits for the Ready in flight (its fsync included) and its apply. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopped = true;
    await this.#idle;
    await this.#applying;
  }
}
