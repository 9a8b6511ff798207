// One member (etcd's EtcdServer): drives Raft to disk and to peers, applies what it commits,
// publishes itself, decides the cluster version and keeps leases expiring on the leader. It builds
// the operations the client API offers (KV, leases, cluster, maintenance, auth, v2, watches,
// elections and locks), each from the few pieces of the member it needs, and owns the member's
// lifecycle.
import { StateType } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { Errors } from "../errors/mod.ts";
import { setInvariantHandler } from "../assert/mod.ts";
import type { WatcherHub } from "../mvcc/mod.ts";
import { Applier } from "./apply/mod.ts";
import { configureStorage } from "./backend.ts";
import type { AuthApi } from "./auth.ts";
import type { ClusterApi } from "./cluster.ts";
import type { ElectionApi } from "./election.ts";
import { createCore, type MemberCore } from "./core.ts";
import { type FailStop, failStop } from "./fail_stop.ts";
import { enableFailpoints } from "./failpoints.ts";
import type { LeaderClient } from "./forward.ts";
import type { HeaderOf } from "./header.ts";
import { HeartbeatCheck } from "./heartbeat_check.ts";
import type { KvApi } from "./kv.ts";
import type { LeaseApi } from "./lease.ts";
import type { LockApi } from "./lock.ts";
import type { Maintenance } from "./maintenance.ts";
import type { MemberState } from "./member_state.ts";
import type { Membership } from "./membership.ts";
import { observeMember } from "./metrics.ts";
import { createOperations } from "./operations.ts";
import type { ServerOptions } from "./options.ts";
import { startLeaseCheckpoints } from "./lease_checkpoint.ts";
import { startLeaseExpiry } from "./lease_expiry.ts";
import { Publisher } from "./publish.ts";
import { handOverLeadership, type LeadershipDeps, transferLeadership } from "./leadership.ts";
import { type RaftPeer, raftPeer } from "./raft_peer.ts";
import { RaftDriver, type Transport } from "./raft_driver.ts";
import { SlowApplyWarner } from "./slow_apply.ts";
import { Snapshotting } from "./snapshotting.ts";
import { installSnapshotDb, snapshotDbPath } from "./etcd_db/mod.ts";
import { adjustTicks } from "./tick_advance.ts";
import { Upkeep } from "./upkeep.ts";
import { VersionMonitor } from "./version_monitor.ts";
import type { V2Api } from "./v2.ts";

export class EtcdServer {
  readonly memberId: bigint;
  /** The cluster's members as the applied log defines them (one object for the member's life). */
  readonly membership: Membership;
  /** The header of a response at a revision (the current one when omitted). */
  readonly header: HeaderOf;
  readonly kv: KvApi;
  readonly lease: LeaseApi;
  readonly cluster: ClusterApi;
  readonly maintenance: Maintenance;
  readonly auth: AuthApi;
  readonly v2: V2Api;
  readonly watchers: WatcherHub;
  readonly election: ElectionApi;
  readonly lock: LockApi;
  readonly #opts: ServerOptions;
  readonly #log: Logger;
  /** How the member stops when it cannot go on safely (fail-stop). */
  readonly #fail: FailStop;
  readonly #state: MemberState;
  readonly #core: MemberCore;
  readonly #applier: Applier;
  readonly #snapshotting: Snapshotting;
  readonly #versions: VersionMonitor;
  readonly #driver: RaftDriver;
  readonly #upkeep: Upkeep;
  readonly #transport: Transport;
  readonly #publisher: Publisher;
  readonly #leadership: LeadershipDeps;
  readonly #membershipListeners: (() => void)[] = [];
  readonly #removedListeners: (() => void)[] = [];
  #timers: ReturnType<typeof setInterval>[] = [];
  #stopped = false;

  constructor(opts: ServerOptions, transport: Transport) {
    const { state } = opts;
    this.#opts = opts;
    this.#log = opts.logger;
    this.#fail = failStop(opts.logger);
    enableFailpoints(opts.logger);
    this.#state = state;
    this.memberId = state.memberId;
    this.membership = state.membership;
    if (opts.backendBatchIntervalMs) state.backend.batchIntervalMs = opts.backendBatchIntervalMs;
    if (opts.backendBatchLimit) state.backend.batchLimit = opts.backendBatchLimit;
    configureStorage(state.backend, state.wal, this.#log, {
      compactionBatchLimit: opts.compactionBatchLimit ?? 0,
      unsafeNoFsync: opts.unsafeNoFsync ?? false,
    });
    this.#transport = transport;
    const now = () => this.now();
    const core = this.#core = createCore(opts, {
      kick: () => this.#driver.kick(),
      stopped: () => this.#stopped,
      now,
      fatal: this.#fail,
    });
    this.header = core.header;
    this.watchers = core.watchers;
    const slow = new SlowApplyWarner({
      log: this.#log,
      thresholdMs: opts.warningApplyDurationMs ?? 100,
      header: () => core.header(),
    });
    this.#applier = new Applier({
      ctx: core.applyContext,
      applied: state.applied,
      raft: {
        isLeader: () => core.raft.isLeader,
        term: () => core.raft.term,
        applyConfChange: (cc) => state.node.applyConfChange(cc),
      },
      electionMs: opts.electionMs,
      proposals: core.proposer,
      membershipChanged: () => this.#membershipListeners.forEach((l) => l()),
      removed: () => this.#removed(),
      installBackend: (index, v2Data) =>
        installSnapshotDb(snapshotDbPath(state.snapshotter.dir, index), state.backend, v2Data),
      snapshotInstalled: () => core.watchers.resync(),
      leaderCommitted: () => void this.#versions.check(),
      timing: slow,
    });
    this.#versions = new VersionMonitor({
      log: this.#log,
      memberId: this.memberId,
      membership: this.membership,
      isLeader: () => core.raft.isLeader && !this.#stopped,
      peerVersion: opts.peerVersion,
      proposeVersion: (version) => core.proposer.propose("clusterVersionSet", { version }),
    });
    this.#leadership = {
      log: this.#log,
      memberId: this.memberId,
      node: state.node,
      raft: core.raft,
      kick: () => this.#driver.kick(),
    };
    this.#publisher = new Publisher({
      log: this.#log,
      memberId: this.memberId,
      name: opts.name,
      clientURLs: opts.clientURLs,
      heartbeatMs: opts.heartbeatMs,
      proposer: core.proposer,
      stopped: () => this.#stopped,
      clusterId: () => this.clusterId,
      requestTimeoutMs: () => this.requestTimeoutMs,
    });
    this.#snapshotting = new Snapshotting({
      log: this.#log,
      memberId: this.memberId,
      applied: state.applied,
      backend: state.backend,
      v2: core.v2,
      storage: state.storage,
      snapshotter: state.snapshotter,
      wal: state.wal,
      snapshotCount: opts.snapshotCount,
      catchUpEntries: opts.snapshotCatchUpEntries,
    });
    const ops = createOperations(opts, {
      core,
      applier: this.#applier,
      transferLeadership: (target) => this.transferLeadership(target),
      slowReads: slow,
      activeSince: (id) => transport.activeSince(id),
      now,
    });
    this.kv = ops.kv;
    this.lease = ops.lease;
    this.cluster = ops.cluster;
    this.maintenance = ops.maintenance;
    this.auth = ops.auth;
    this.v2 = ops.v2;
    this.election = ops.election;
    this.lock = ops.lock;
    this.#driver = this.#createDriver(transport);
    this.#upkeep = this.#createUpkeep();
  }

  #createUpkeep(): Upkeep {
    const { raft, forwarder, proposer, reads } = this.#core;
    return new Upkeep(this.#opts.upkeep ?? {}, {
      log: this.#log,
      memberId: this.memberId,
      state: this.#state,
      membership: this.membership,
      compact: (revision) => this.kv.compact({ revision }),
      peerClient: () => forwarder.client,
      requestTimeoutMs: this.requestTimeoutMs,
      isLeader: () => raft.isLeader,
      linearizableRead: () => reads.linearizableRead(),
      proposeAlarm: (alarm) => proposer.propose("alarm", alarm),
    });
  }

  /**
   * etcd's initial corruption check (--experimental-initial-corrupt-check), run on a restart
   * before the member serves: etcd's error text when a peer's data differs.
   */
  checkInitialHashKV(): Promise<string | undefined> {
    return this.#upkeep.corruption.checkInitial();
  }

  #createDriver(transport: Transport): RaftDriver {
    const { node, storage, wal, snapshotter } = this.#state;
    const { raft, readIndex } = this.#core;
    const heartbeats = new HeartbeatCheck(this.#opts.heartbeatMs, this.#log);
    const sending: Transport = {
      send: (messages) => {
        heartbeats.sending(messages);
        transport.send(messages);
      },
      activeSince: (id) => transport.activeSince(id),
    };
    return new RaftDriver(node, storage, wal, snapshotter, sending, {
      beforeReady: () => this.#core.proposer.stepQueued(),
      softState: (ss) => {
        heartbeats.reset();
        this.#onSoftState(ss.lead, ss.raftState);
      },
      hardState: (hs) => raft.onHardState(hs),
      readStates: (rs) => rs.forEach((r) => readIndex.onReadState(r.index, r.requestCtx)),
      applySnapshot: (snap) => this.#applier.applySnapshot(snap),
      applyEntries: (entries) => {
        this.#applier.apply(entries);
        readIndex.onApplied(this.#applier.appliedIndex);
      },
      afterApply: () => this.#snapshotting.maybeSnapshot(),
      fatal: this.#fail,
    }, this.#opts.heartbeatMs);
  }

  get clusterId(): bigint {
    return this.membership.clusterId;
  }
  /** Elections seen since start; 0 means this member never had a leader. */
  get leaderChanges(): number {
    return this.#core.raft.leaderChanges;
  }
  get stopped(): boolean {
    return this.#stopped;
  }
  now(): number {
    return this.#opts.now ? this.#opts.now() : Date.now();
  }
  /** etcd's request timeout: 5 s plus two election timeouts. */
  get requestTimeoutMs(): number {
    return this.#core.requestTimeoutMs;
  }
  /** The decided cluster version as `major.minor.0`, empty before the leader sets it. */
  clusterVersion(): string {
    return this.membership.version;
  }

  start(): void {
    // A broken invariant anywhere stops the member where it breaks (etcd's panic).
    setInvariantHandler((err) => this.#fail("raft", err));
    this.#state.backend.onCommitError = (err) => this.#fail("commit", err);
    observeMember({
      raft: this.#core.raft,
      node: this.#state.node,
      storage: this.#state.storage,
      membership: this.membership,
      backend: this.#state.backend,
      watchers: this.watchers,
      v2: this.#core.v2.store,
      authRevision: () => this.#core.authStore.revision,
      appliedIndex: () => this.#applier.appliedIndex,
      quotaBackendBytes: this.#opts.quotaBackendBytes,
    });
    this.#driver.start();
    // etcd skips most of the first election timeout when it is alone or its peers are up.
    void adjustTicks({
      log: this.#log,
      memberId: this.memberId,
      node: this.#state.node,
      kick: () => this.#driver.kick(),
      membership: this.membership,
      transport: this.#transport,
      heartbeatMs: this.#opts.heartbeatMs,
      electionMs: this.#opts.electionMs,
      initialElectionTickAdvance: this.#opts.initialElectionTickAdvance ?? true,
      stopped: () => this.#stopped,
    });
    this.#upkeep.start();
    this.#versions.start();
    this.#publisher.publish();
    this.#timers.push(startLeaseExpiry({
      lessor: this.#state.lessor,
      proposer: this.#core.proposer,
      authStore: this.#core.authStore,
      isLeader: () => this.#core.raft.isLeader && !this.#stopped,
    }));
    if (this.#opts.leaseCheckpoint) this.#timers.push(this.#startCheckpoints());
    // Every member runs it; only the leader proposes v2 TTL expiry.
    this.v2.start();
  }

  /** Resolves once this member has published its attributes: it may serve clients then. */
  ready(): Promise<void> {
    return this.#publisher.ready();
  }

  /** Waits until the member serves clients; fails fast without a leader when asked to. */
  async serving(metadata: Record<string, string>): Promise<void> {
    if (!this.#publisher.published) await this.ready();
    // The client asked to fail fast without a leader (the `hasleader` metadata).
    if (metadata["hasleader"] === "true" && this.#core.raft.leader === 0n) throw Errors.noLeader();
  }

  /** Hands leadership to `target` and waits until it has taken over. */
  transferLeadership(target: bigint, timeoutMs = this.requestTimeoutMs): Promise<void> {
    return transferLeadership(this.#leadership, target, timeoutMs);
  }

  #onSoftState(lead: bigint, raftState: StateType): void {
    const wasLeader = this.#core.raft.isLeader;
    if (this.#core.raft.onLeader(lead)) this.#core.readIndex.retry();
    const isLeader = raftState === StateType.Leader;
    this.#upkeep.leadership(isLeader);
    if (!isLeader && wasLeader) this.#state.lessor.demote();
  }

  #startCheckpoints(): ReturnType<typeof setInterval> {
    return startLeaseCheckpoints({
      lessor: this.#state.lessor,
      proposer: this.#core.proposer,
      log: this.#log,
      isLeader: () => this.#core.raft.isLeader && !this.#stopped,
    }, this.#opts.leaseCheckpoint!);
  }

  /** Called after every applied membership change (and after a snapshot replaced it). */
  onMembershipChange(listener: () => void): void {
    this.#membershipListeners.push(listener);
  }

  /** Called once when this member learns it was removed from the cluster. */
  onRemoved(listener: () => void): void {
    this.#removedListeners.push(listener);
  }

  #removed(): void {
    if (this.#stopped) return;
    this.#log.warn({
      pkg: "etcdserver",
      text: "the member has been permanently removed from the cluster",
      msg: "the member has been permanently removed from the cluster",
    });
    this.#log.warn({
      pkg: "etcdserver",
      text: "the data-dir used by this member must be removed.",
    });
    for (const l of this.#removedListeners.splice(0)) l();
  }

  /** How requests only the leader answers reach it from here (the peer module's client). */
  useLeaderClient(client: LeaderClient): void {
    this.#core.forwarder.client = client;
  }

  /** The member as the peer transport sees it. */
  raftPeer(): RaftPeer {
    return raftPeer({
      node: this.#state.node,
      log: this.#log,
      fail: this.#fail,
      kick: () => this.#driver.kick(),
      removed: () => this.#removed(),
      snapshot: () => this.#snapshotting.merged(),
      snapDir: this.#state.snapshotter.dir,
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    await handOverLeadership(this.#leadership, this.#opts.electionMs * 2);
    this.#stopped = true;
    this.v2.stop();
    this.#versions.stop();
    this.#timers.forEach((t) => clearInterval(t));
    await this.#upkeep.stop();
    await this.#driver.stop();
    this.#core.proposer.failAll(Errors.stopped());
    this.#core.readIndex.abort(Errors.stopped());
    this.#state.backend.close();
    await this.#state.wal.close();
    this.#state.lock.release();
    setInvariantHandler(undefined);
  }
}
