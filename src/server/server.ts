// One member (etcd's EtcdServer): proposes client writes to Raft and waits for their apply,
// serves linearizable reads through ReadIndex, publishes itself, sets the cluster version and
// keeps leases expiring on the leader. The api/ layer talks to the cluster only through this.
import { type Message, RaftError, type RawNode, StateType } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { Errors, EtcdError } from "../errors/mod.ts";
import { formatId } from "./ids.ts";
import { formatAttributes } from "./membership.ts";
import { encodeRequest, type InternalRequest, type RequestKind } from "./request.ts";
import { ReadIndexer } from "./read_index.ts";
import { RequestIdGenerator, Wait } from "./wait.ts";
import type { Backend } from "./backend.ts";
import { Applier, type ApplyResult } from "./apply.ts";
import { RaftDriver, type Transport } from "./raft_driver.ts";
import type { MemberState } from "./member_state.ts";
import { Snapshotting } from "./snapshotting.ts";
import { ClusterApi } from "./cluster.ts";
import { Maintenance } from "./maintenance.ts";
import { KvApi } from "./kv.ts";
import { LeaseApi } from "./lease.ts";
import type { LeaderClient } from "./forward.ts";
import { createWatcherHub, type WatcherHub } from "../mvcc/mod.ts";
import type { ConfChange } from "../raft/mod.ts";
import { serverMetrics } from "../metrics/mod.ts";
import { type AuthInfo, AuthStore } from "../auth/mod.ts";

/** Proposals waiting for apply beyond this many committed-but-unapplied entries are refused. */
const MAX_GAP_BETWEEN_APPLY_AND_COMMIT = 5000;

export interface ServerOptions {
  logger: Logger;
  state: MemberState;
  name: string;
  clientURLs: string[];
  heartbeatMs: number;
  electionMs: number;
  snapshotCount: number;
  strictReconfigCheck: boolean;
  maxTxnOps: number;
  maxRequestBytes: number;
  /** Backend size that raises the NOSPACE alarm; 0 or less disables the quota. */
  quotaBackendBytes: number;
  /** --backend-batch-interval in ms and --backend-batch-limit; 0 or unset keeps etcd's default. */
  backendBatchIntervalMs?: number;
  backendBatchLimit?: number;
  /** --auth-token-ttl in seconds (300 if unset). */
  authTokenTtl?: number;
  /** --client-cert-auth: a verified client certificate's CN is the user when auth is on. */
  clientCertAuth?: boolean;
  /** Injected for tests; Date.now otherwise. */
  now?: () => number;
}

export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

export class EtcdServer {
  readonly log: Logger;
  readonly state: MemberState;
  readonly backend: Backend;
  readonly node: RawNode;
  readonly driver: RaftDriver;
  readonly applier: Applier;
  readonly reads: ReadIndexer;
  readonly kv: KvApi;
  readonly lease: LeaseApi;
  readonly hub: WatcherHub;
  readonly cluster: ClusterApi;
  readonly maintenance: Maintenance;
  readonly auth: AuthStore;
  /** How requests only the leader answers reach it from here; set when peers are wired. */
  leaderClient?: LeaderClient;
  readonly #wait: Wait<ApplyResult, InternalRequest>;
  readonly #ids: RequestIdGenerator;
  readonly #opts: ServerOptions;
  readonly #readyWaiters: (() => void)[] = [];
  #leader = 0n;
  #term = 0;
  #commit = 0;
  #leaderChanges = 0;
  #published = false;
  #stopped = false;
  #timers: ReturnType<typeof setInterval>[] = [];
  readonly #membershipListeners: (() => void)[] = [];
  readonly #removedListeners: (() => void)[] = [];
  #leaderWaiters: { target: bigint; resolve(): void }[] = [];

  constructor(opts: ServerOptions, transport: Transport) {
    this.#opts = opts;
    this.log = opts.logger;
    this.state = opts.state;
    this.#wait = new Wait(this.requestTimeoutMs, () => this.#timeoutError());
    this.backend = opts.state.backend;
    if (opts.backendBatchIntervalMs) this.backend.batchIntervalMs = opts.backendBatchIntervalMs;
    if (opts.backendBatchLimit) this.backend.batchLimit = opts.backendBatchLimit;
    this.node = opts.state.node;
    this.#ids = new RequestIdGenerator(this.state.memberId, this.now());
    this.reads = new ReadIndexer({
      requestReadIndex: (ctx) => {
        this.node.readIndex(ctx);
        this.driver.kick();
      },
      appliedIndex: () => this.applier.appliedIndex,
    });
    this.auth = new AuthStore(() => this.backend.aux, {
      tokenTtlMs: (opts.authTokenTtl ?? 300) * 1000,
      clientCertAuth: opts.clientCertAuth ?? false,
      now: () => this.now(),
    });
    this.applier = new Applier(this, this.#wait);
    this.kv = new KvApi(this, opts);
    this.lease = new LeaseApi(this);
    this.hub = createWatcherHub({
      currentRevision: () => this.backend.store.rev(),
      compactRevision: () => this.backend.store.compactRevision(),
      history: (key, end, from, to, limit) =>
        this.backend.store.eventsBetween(key, end, from, to, limit),
    }, { maxResponseBytes: opts.maxRequestBytes + 512 });
    this.backend.onEvents((events) => this.hub.notify(this.backend.store.rev(), events));
    this.cluster = new ClusterApi(this);
    this.maintenance = new Maintenance(this);
    const snapshotting = new Snapshotting(this, opts.snapshotCount);
    this.driver = new RaftDriver(
      this.node,
      this.state.storage,
      this.state.wal,
      this.state.snapshotter,
      transport,
      {
        softState: (ss) => this.#onSoftState(ss.lead, ss.raftState),
        hardState: (hs) => {
          this.#term = hs.term;
          this.#commit = hs.commit;
        },
        readStates: (rs) => rs.forEach((r) => this.reads.onReadState(r.index, r.requestCtx)),
        applySnapshot: (snap) => this.applier.applySnapshot(snap),
        applyEntries: (entries) => {
          this.applier.apply(entries);
          this.reads.onApplied(this.applier.appliedIndex);
        },
        afterApply: () => snapshotting.maybeSnapshot(),
        fatal: (err) => this.log.fatal({ pkg: "etcdserver", text: `raft: ${err}` }),
      },
      opts.heartbeatMs,
    );
  }

  get memberId(): bigint {
    return this.state.memberId;
  }
  get clusterId(): bigint {
    return this.state.membership.clusterId;
  }
  get term(): number {
    return this.#term;
  }
  get leader(): bigint {
    return this.#leader;
  }
  get leaderChanges(): number {
    return this.#leaderChanges;
  }
  get electionMs(): number {
    return this.#opts.electionMs;
  }
  get strictReconfigCheck(): boolean {
    return this.#opts.strictReconfigCheck;
  }
  /** The decided cluster version as `major.minor.0`, empty before the leader sets it. */
  clusterVersion(): string {
    return this.state.membership.version;
  }
  /** Whether we heard from this member recently (ourselves always). */
  isActive(id: bigint): boolean {
    return id === this.memberId || this.#activeSince(id);
  }
  #activeSince(id: bigint): boolean {
    return this.node.status().progress?.get(id)?.recentActive ?? false;
  }
  get stopped(): boolean {
    return this.#stopped;
  }
  get isLeader(): boolean {
    return this.#leader === this.memberId;
  }
  now(): number {
    return this.#opts.now ? this.#opts.now() : Date.now();
  }
  /** etcd's request timeout: 5 s plus two election timeouts. */
  get requestTimeoutMs(): number {
    return 5000 + 2 * this.#opts.electionMs;
  }

  start(): void {
    this.#fastForwardSingleNode();
    this.driver.start();
    this.#publish();
    this.#timers.push(setInterval(() => this.#revokeExpiredLeases(), 500));
  }

  // A lone voter has nobody to wait for: etcd skips most of its first election timeout.
  #fastForwardSingleNode(): void {
    const { voters } = this.node.status().config;
    if (voters.length !== 1 || voters[0] !== this.memberId) return;
    const electionTicks = Math.floor(this.#opts.electionMs / this.#opts.heartbeatMs);
    this.log.info({
      pkg: "etcdserver",
      text: `${formatId(this.memberId)} as single-node; fast-forwarding ${
        electionTicks - 1
      } ticks (election ticks ${electionTicks})`,
    });
    for (let i = 0; i < electionTicks - 1; i++) this.node.tick();
  }

  /** Resolves once this member has published its attributes: it may serve clients then. */
  ready(): Promise<void> {
    if (this.#published) return Promise.resolve();
    return new Promise((resolve) => this.#readyWaiters.push(resolve));
  }

  header(revision = this.backend.store.rev()): ResponseHeader {
    return {
      clusterId: this.clusterId,
      memberId: this.memberId,
      revision,
      raftTerm: this.#term,
    };
  }

  /**
   * Proposes a request and resolves with its apply result, or etcd's error. A client's request
   * carries its `auth` identity so that the apply path can check it where it lands in the log.
   */
  async propose(
    kind: RequestKind,
    body: unknown,
    signal?: AbortSignal,
    auth?: AuthInfo,
  ): Promise<ApplyResult> {
    if (this.#stopped) throw Errors.stopped();
    if (this.#commit - this.applier.appliedIndex > MAX_GAP_BETWEEN_APPLY_AND_COMMIT) {
      throw Errors.tooManyRequests();
    }
    const request: InternalRequest = { kind, id: this.#ids.next(), body, auth };
    const data = encodeRequest(request);
    const result = this.#wait.register(request.id, request);
    const onAbort = () => this.#wait.fail(request.id, Errors.stopped());
    signal?.addEventListener("abort", onAbort);
    serverMetrics.proposalsPending.inc();
    try {
      this.#proposeWhenLeaderKnown(request.id, data);
      return await result;
    } catch (err) {
      // etcd counts proposals that time out or whose caller gave up, not a stopping server.
      if (!this.#stopped) serverMetrics.proposalsFailed.inc();
      throw err;
    } finally {
      serverMetrics.proposalsPending.dec();
      signal?.removeEventListener("abort", onAbort);
    }
  }

  // Without a leader Raft drops proposals; etcd's callers wait for one until their timeout.
  #proposeWhenLeaderKnown(id: bigint, data: Uint8Array): void {
    if (!this.#wait.has(id) || this.#stopped) return;
    if (this.#leader === 0n) {
      setTimeout(() => this.#proposeWhenLeaderKnown(id, data), this.#opts.heartbeatMs);
      return;
    }
    try {
      this.node.propose(data);
      this.driver.kick();
    } catch {
      setTimeout(() => this.#proposeWhenLeaderKnown(id, data), this.#opts.heartbeatMs);
    }
  }

  // etcd 3.4 answers a request that outlived its deadline without a leader the same way.
  #timeoutError(): EtcdError {
    return Errors.timeout();
  }

  /** Proposes a membership change; resolves once `applied` (the apply path's signal) does. */
  async proposeConfChange(cc: ConfChange, applied: Promise<void>): Promise<void> {
    if (this.#stopped) throw Errors.stopped();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.#timeoutError()), this.requestTimeoutMs);
    });
    try {
      this.node.proposeConfChange(cc);
      this.driver.kick();
      await Promise.race([applied, timeout]);
    } catch (err) {
      if (err instanceof EtcdError) throw err;
      throw this.#leader === 0n ? Errors.noLeader() : err;
    } finally {
      clearTimeout(timer);
    }
  }

  // A leader of several voters hands over before it goes, so the cluster does not wait an
  // election timeout for a new one (etcd's TransferLeadership on shutdown).
  async #handOverLeadership(): Promise<void> {
    if (!this.isLeader) return;
    const status = this.node.status();
    const candidates = status.config.voters.filter((id) => id !== this.memberId);
    if (candidates.length === 0) return;
    const target = candidates.reduce((best, id) =>
      (status.progress.get(id)?.match ?? 0) > (status.progress.get(best)?.match ?? 0) ? id : best
    );
    this.log.info({
      pkg: "etcdserver",
      text: `${formatId(this.memberId)} starts leadership transfer from ${
        formatId(this.memberId)
      } to ${formatId(target)}`,
    });
    try {
      await this.transferLeadership(target, this.#opts.electionMs * 2);
    } catch {
      this.log.warn({ pkg: "etcdserver", text: "leadership transfer failed; stopping anyway" });
    }
  }

  /** Hands leadership to `target` and waits until it has taken over. */
  async transferLeadership(target: bigint, timeoutMs = this.requestTimeoutMs): Promise<void> {
    const taken = new Promise<void>((resolve) => this.#leaderWaiters.push({ target, resolve }));
    this.node.transferLeader(target);
    this.driver.kick();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Errors.timeout()), timeoutMs);
    });
    try {
      await Promise.race([taken, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits until the member serves clients; fails fast without a leader when asked to. */
  async serving(metadata: Record<string, string>): Promise<void> {
    if (!this.#published) await this.ready();
    this.requireLeader(metadata);
  }

  /** Waits until a read here observes every write acknowledged before the call. */
  async linearizableRead(timeoutMs = this.requestTimeoutMs): Promise<void> {
    if (this.#stopped) throw Errors.stopped();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.#timeoutError()), timeoutMs);
    });
    try {
      await Promise.race([this.reads.wait(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Waits until everything committed so far is applied (etcd's applyWait before answering a
   * forwarded lease request): a lease a follower just saw granted is known here too.
   */
  async waitAppliedCommitted(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Errors.timeoutWaitAppliedIndex()), timeoutMs);
    });
    try {
      await Promise.race([this.reads.waitApplied(this.#commit), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Fails fast without a leader when the client asked for it (the `hasleader` metadata). */
  requireLeader(metadata: Record<string, string>): void {
    if (metadata["hasleader"] === "true" && this.#leader === 0n) throw Errors.noLeader();
  }

  #onSoftState(lead: bigint, raftState: StateType): void {
    const wasLeader = this.isLeader;
    if (lead !== this.#leader) {
      // Raft itself logs "elected leader" / "lost leader"; the member counts the changes.
      if (lead !== 0n) this.#leaderChanges++;
      this.#leader = lead;
      this.reads.retry();
      const done = this.#leaderWaiters.filter((w) => w.target === lead);
      this.#leaderWaiters = this.#leaderWaiters.filter((w) => w.target !== lead);
      done.forEach((w) => w.resolve());
    }
    const isLeader = raftState === StateType.Leader;
    if (isLeader && !wasLeader) {
      if (this.state.membership.version === "") void this.#setClusterVersion();
    } else if (!isLeader && wasLeader) {
      this.state.lessor.demote();
    }
  }

  async #setClusterVersion(): Promise<void> {
    this.log.info({ pkg: "etcdserver", text: "setting up the initial cluster version to 3.4" });
    await this.propose("clusterVersionSet", { version: "3.4.0" }).catch(() => {});
  }

  // A member announces its name and client URLs through Raft; until that is applied it does
  // not serve clients (etcd's publish + ReadyNotify).
  #publish(): void {
    const attrs = {
      memberId: this.memberId,
      name: this.#opts.name,
      clientURLs: this.#opts.clientURLs,
    };
    const attempt = () => {
      if (this.#stopped || this.#published) return;
      this.propose("memberAttrSet", attrs).then(() => this.#onPublished(), () => {
        if (!this.#stopped) setTimeout(attempt, this.#opts.heartbeatMs);
      });
    };
    attempt();
  }

  #onPublished(): void {
    if (this.#published) return;
    this.#published = true;
    this.log.info({
      pkg: "etcdserver",
      text: `published ${formatAttributes(this.#opts.name, this.#opts.clientURLs)} to cluster ${
        formatId(this.clusterId)
      }`,
      msg: "published local member to cluster through raft",
      fields: {
        "local-member-id": formatId(this.memberId),
        "local-member-attributes": formatAttributes(this.#opts.name, this.#opts.clientURLs),
        "request-path": `/0/members/${formatId(this.memberId)}/attributes`,
        "cluster-id": formatId(this.clusterId),
        "publish-timeout": `${this.requestTimeoutMs / 1000}s`,
      },
    });
    this.#readyWaiters.splice(0).forEach((r) => r());
  }

  #revokeExpiredLeases(): void {
    if (!this.isLeader || this.#stopped) return;
    for (const id of this.state.lessor.expired()) {
      void this.propose("leaseRevoke", { ID: id }).catch(() => {});
    }
  }

  /** Called after every applied membership change (and after a snapshot replaced it). */
  onMembershipChange(listener: () => void): void {
    this.#membershipListeners.push(listener);
  }

  membershipChanged(): void {
    for (const l of this.#membershipListeners) l();
  }

  /** Called once when this member learns it was removed from the cluster. */
  onRemoved(listener: () => void): void {
    this.#removedListeners.push(listener);
  }

  removed(): void {
    if (this.#stopped) return;
    this.log.warn({
      pkg: "etcdserver",
      text: "the member has been permanently removed from the cluster",
      msg: "the member has been permanently removed from the cluster",
    });
    this.log.warn({
      pkg: "etcdserver",
      text: "the data-dir used by this member must be removed.",
    });
    for (const l of this.#removedListeners.splice(0)) l();
  }

  /** Messages from peers enter Raft here. */
  step(m: Message): void {
    try {
      this.node.step(m);
    } catch (err) {
      // Raft refuses messages from members it no longer knows and proposals it cannot take;
      // etcd drops those too.
      if (!(err instanceof RaftError)) throw err;
      this.log.debug({ pkg: "etcdserver", text: `dropped raft message: ${err.message}` });
    }
    this.driver.kick();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    await this.#handOverLeadership();
    this.#stopped = true;
    this.#timers.forEach((t) => clearInterval(t));
    await this.driver.stop();
    this.#wait.failAll(Errors.stopped());
    this.reads.abort(Errors.stopped());
    this.backend.close();
    await this.state.wal.close();
    this.state.lock.release();
  }
}
