// The member's background duties, each from etcd's EtcdServer.Start: purging old snapshot and
// WAL files, auto-compaction (active on the leader only) and the leader's periodic corruption
// check. Built from the few pieces they need; started and stopped with the member.
import type { Logger } from "../log/mod.ts";
import { type AlarmRequest, AlarmRequest_AlarmAction, AlarmType } from "../pb/mod.ts";
import { type AutoCompactor, createCompactor } from "./compactor.ts";
import { CorruptionChecker, type PeerHashKV } from "./corrupt.ts";
import type { MemberState } from "./member_state.ts";
import type { Membership } from "./membership.ts";
import { FilePurger } from "./purge.ts";

/** etcd's --max-snapshots and --max-wals defaults. */
export const DEFAULT_MAX_FILES = 5;

export interface UpkeepOptions {
  /** 0 keeps every file; unset: 5. */
  maxSnapshots?: number;
  maxWals?: number;
  /** --auto-compaction-mode, and its retention (ms periodic, revisions); 0 or unset: off. */
  autoCompactionMode?: string;
  autoCompactionRetention?: number;
  /** --experimental-corrupt-check-time in ms; 0 or unset: off. */
  corruptCheckTimeMs?: number;
}

export interface UpkeepDeps {
  log: Logger;
  memberId: bigint;
  state: Pick<MemberState, "snapshotter" | "wal" | "backend">;
  membership: Membership;
  /** A compaction through raft, as a client's Compact. */
  compact(rev: number): Promise<unknown>;
  /** The client of other members' peer ports (set once peers are wired). */
  peerClient():
    | { hashKV(url: string, rev: number, timeoutMs: number): Promise<PeerHashKV> }
    | undefined;
  requestTimeoutMs: number;
  isLeader(): boolean;
  linearizableRead(): Promise<void>;
  proposeAlarm(alarm: AlarmRequest): Promise<unknown>;
}

export class Upkeep {
  readonly corruption: CorruptionChecker;
  readonly #purger: FilePurger;
  readonly #compactor?: AutoCompactor;

  constructor(readonly opts: UpkeepOptions, deps: UpkeepDeps) {
    const { log, state: { snapshotter, wal, backend } } = deps;
    this.#purger = new FilePurger({
      log,
      snapshotter,
      wal,
      maxSnapshots: opts.maxSnapshots ?? DEFAULT_MAX_FILES,
      maxWals: opts.maxWals ?? DEFAULT_MAX_FILES,
    });
    this.#compactor = createCompactor(
      opts.autoCompactionMode || "periodic",
      opts.autoCompactionRetention ?? 0,
      { log, rev: () => backend.store.rev(), compact: deps.compact },
    );
    this.corruption = new CorruptionChecker({
      ...deps,
      localHash: () => {
        const h = backend.store.hashKV(0);
        return { revision: h.rev, hash: h.hash, compactRevision: h.compactRevision };
      },
      peers: () => deps.membership.list().filter((m) => m.id !== deps.memberId),
      peerHashKV: (url, revision, timeoutMs) => {
        const client = deps.peerClient();
        if (!client) return Promise.reject(new Error("no peer client"));
        return client.hashKV(url, revision, timeoutMs);
      },
      // etcd raises it for member 0: which member is corrupt is not known.
      raiseCorruptAlarm: () =>
        deps.proposeAlarm({
          action: AlarmRequest_AlarmAction.ACTIVATE,
          memberID: 0n,
          alarm: AlarmType.CORRUPT,
        }),
    });
  }

  start(): void {
    this.#purger.start();
    this.#compactor?.run();
    this.corruption.startPeriodic(this.opts.corruptCheckTimeMs ?? 0);
  }

  /** etcd pauses the compactor whenever this member is not the leader. */
  leadership(isLeader: boolean): void {
    if (isLeader) this.#compactor?.resume();
    else this.#compactor?.pause();
  }

  async stop(): Promise<void> {
    this.#compactor?.stop();
    this.corruption.stop();
    await this.#purger.stop();
  }
}
