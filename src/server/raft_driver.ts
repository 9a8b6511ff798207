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
import { failpoints, hit } from "../failpoint/mod.ts";
import type { FailStage } from "./fail_stop.ts";

export interface Transport {
  send(messages: Message[]): void;
  /** When the connection to the peer became usable (ms since the epoch), 0 if it is not. */
  activeSince(id: bigint): number;
}

export interface DriverHooks {
  /** Before raft is asked for a Ready: the proposals queued meanwhile go into raft. */
  beforeReady(): void;
  softState(ss: SoftState): void;
  readStates(rs: ReadState[]): void;
  /** Term, vote and commit index changed (cheap to read later, unlike RawNode.status()). */
  hardState(hs: HardState): void;
  /** A snapshot from the leader replaces the local state (follower catch-up). */
  applySnapshot(snap: Snapshot): Promise<void>;
  applyEntries(entries: Entry[]): void;
  /** After each applied batch: snapshotting and log compaction decisions. */
  afterApply(): Promise<void>;
  /** Raft, persisting or applying failed: the member stops (fail-stop); never returns. */
  fatal(stage: FailStage, err: unknown): never;
}

export class RaftDriver {
  #timer?: ReturnType<typeof setInterval>;
  #running = false;
  #scheduled = false;
  #idle?: Promise<void>;
  #stopped = false;
  #applying: Promise<void> = Promise.resolve();
  /** What the Ready in flight is doing, for the line a failure stops the member with. */
  #stage: FailStage = "raft";

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
      try {
        this.node.tick();
      } catch (err) {
        this.hooks.fatal("raft", err);
      }
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
      for (;;) {
        this.#stage = "raft";
        if (this.#stopped) break;
        this.hooks.beforeReady();
        if (!this.node.hasReady()) break;
        await this.#process(this.node.ready());
      }
    } catch (err) {
      this.hooks.fatal(this.#stage, err);
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
    if (sendEarly) {
      if (failpoints.on) await hit("raftBeforeLeaderSend");
      this.transport.send(rd.messages);
    }
    if (rd.snapshot) await this.#saveSnapshot(rd.snapshot);
    await this.#save(rd);
    if (rd.snapshot) await this.#applySnapshot(rd.snapshot);
    this.#stage = "raft";
    if (rd.hardState) this.storage.setHardState(rd.hardState);
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (!sendEarly) {
      if (failpoints.on) await hit("raftBeforeFollowerSend");
      this.transport.send(rd.messages);
    }
    const committed = rd.committedEntries;
    if (committed.length > 0 || rd.snapshot) this.#queueApply(committed);
    // Like etcd, Raft moves on while the entries apply (their fsync is done), so the next
    // batch's fsync overlaps this batch's apply. A conf change must be applied before Raft
    // sees the next Ready, since it changes who Raft talks to.
    if (committed.some((e) => e.type === EntryType.ConfChange)) await this.#applying;
    this.node.advance(rd);
  }

  /** The snapshot file and its WAL marker, before any entry after it (as etcd orders them). */
  async #saveSnapshot(snap: Snapshot): Promise<void> {
    this.#stage = "saveSnap";
    if (failpoints.on) await hit("raftBeforeSaveSnap");
    await this.snapshotter.save(snap);
    await this.wal.saveSnapshot(snap.metadata);
    if (failpoints.on) await hit("raftAfterSaveSnap");
  }

  /**
   * One WAL append (and fsync, when raft asks for it) of the Ready's entries and hard state.
   * With a snapshot the hard state is fsync'd even when raft would not ask: a restart honours
   * only snapshot markers at or below the durable commit index, and one left above it would
   * lose the snapshot the leader already counts as delivered (etcd issue 10219).
   */
  async #save(rd: ReturnType<RawNode["ready"]>): Promise<void> {
    this.#stage = "save";
    if (failpoints.on) await hit("raftBeforeSave");
    await this.wal.save(rd.hardState, rd.entries, rd.mustSync || rd.snapshot !== undefined);
    if (failpoints.on) await hit("raftAfterSave");
  }

  async #applySnapshot(snap: Snapshot): Promise<void> {
    // A snapshot replaces the state the queued entries apply to: let them finish first.
    await this.#applying;
    this.#stage = "applySnap";
    if (failpoints.on) await hit("raftBeforeApplySnap");
    this.storage.applySnapshot(snap);
    await this.hooks.applySnapshot(snap);
    if (failpoints.on) await hit("raftAfterApplySnap");
  }

  /** Applies committed entries strictly in log order, after those queued before them. */
  #queueApply(entries: Entry[]): void {
    this.#applying = this.#applying.then(async () => {
      try {
        if (entries.length > 0) this.hooks.applyEntries(entries);
      } catch (err) {
        this.hooks.fatal("apply", err);
      }
      try {
        await this.hooks.afterApply();
      } catch (err) {
        this.hooks.fatal("snapshot", err);
      }
    });
  }

  /** Stops ticking and waits for the Ready in flight (its fsync included) and its apply. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#stopped = true;
    await this.#idle;
    await this.#applying;
  }
}
