// The member's machinery below its operations: what Raft has told it (RaftStatus), proposing and
// waiting for the apply (Proposer), read barriers (ReadIndexer, Reads), the auth store, the
// watcher hub, the v2 store, the context entries are applied in, forwarding to the leader, and
// the response header. EtcdServer builds the operations and the apply path from these parts.
import type { RawNode } from "../raft/mod.ts";
import { AuthStore, createTokenProvider } from "../auth/mod.ts";
import { createWatcherHub, type WatcherHub } from "../mvcc/mod.ts";
import type { ApplyContext } from "./apply/mod.ts";
import { LeaderForwarder } from "./forward.ts";
import type { HeaderOf } from "./header.ts";
import { GRPC_OVERHEAD_BYTES, type ServerOptions } from "./options.ts";
import type { FailStop } from "./fail_stop.ts";
import { Proposer } from "./proposer.ts";
import { RaftStatus } from "./raft_status.ts";
import { ReadIndexer } from "./read_index.ts";
import { Reads } from "./reads.ts";
import { MemberV2Store } from "./v2_store.ts";

export interface MemberCore {
  raft: RaftStatus;
  proposer: Proposer;
  readIndex: ReadIndexer;
  reads: Reads;
  authStore: AuthStore;
  watchers: WatcherHub;
  v2: MemberV2Store;
  applyContext: ApplyContext;
  forwarder: LeaderForwarder;
  header: HeaderOf;
  requestTimeoutMs: number;
}

/** What the core asks of the server that owns it. */
export interface CoreHooks {
  /** Raft has something to do: process its Ready soon. */
  kick(): void;
  stopped(): boolean;
  now(): number;
  /** Raft failed in a way it does not refuse a request with: the member stops. */
  fatal: FailStop;
}

/** etcd's request timeout: 5 s plus two election timeouts. */
export function requestTimeoutOf(electionMs: number): number {
  return 5000 + 2 * electionMs;
}

export function createCore(opts: ServerOptions, hooks: CoreHooks): MemberCore {
  const { state } = opts;
  const { backend, node } = state;
  const { kick, stopped, now, fatal } = hooks;
  const requestTimeoutMs = requestTimeoutOf(opts.electionMs);
  const raft = new RaftStatus(state.memberId, node);
  const appliedIndex = () => state.applied.index;
  const commitIndex = () => raft.commit;
  const proposer = new Proposer({
    node,
    kick,
    memberId: state.memberId,
    leader: () => raft.leader,
    commitIndex,
    appliedIndex,
    stopped,
    heartbeatMs: opts.heartbeatMs,
    requestTimeoutMs,
    maxRequestBytes: opts.maxRequestBytes,
    now,
    fatal,
  });
  const readIndex = readIndexerOf(node, kick, appliedIndex);
  const reads = new Reads({ indexer: readIndex, commitIndex, stopped, requestTimeoutMs });
  const tokenTtlMs = (opts.authTokenTtl ?? 300) * 1000;
  const authStore = new AuthStore(() => backend.aux, {
    tokenTtlMs,
    tokens: createTokenProvider(opts.authToken ?? "simple", { simpleTtlMs: tokenTtlMs, now }),
    clientCertAuth: opts.clientCertAuth ?? false,
    now,
  });
  const watchers = watcherHubOf(opts);
  const v2 = new MemberV2Store(() => backend.aux, now);
  const forwarder = new LeaderForwarder({
    raft,
    membership: state.membership,
    requestTimeoutMs,
    stopped,
    now,
  });
  const header: HeaderOf = (revision = backend.store.rev()) => ({
    clusterId: state.membership.clusterId,
    memberId: state.memberId,
    revision,
    raftTerm: raft.term,
  });
  const applyContext = applyContextOf(opts, authStore, v2, watchers);
  return {
    raft,
    proposer,
    readIndex,
    reads,
    authStore,
    watchers,
    v2,
    applyContext,
    forwarder,
    header,
    requestTimeoutMs,
  };
}

function readIndexerOf(node: RawNode, kick: () => void, appliedIndex: () => number) {
  return new ReadIndexer({
    requestReadIndex: (ctx) => {
      node.readIndex(ctx);
      kick();
    },
    appliedIndex,
  });
}

// Every applied write's events reach the watchers; they catch up from the stored history.
function watcherHubOf(opts: ServerOptions): WatcherHub {
  const { backend } = opts.state;
  const watchers = createWatcherHub({
    currentRevision: () => backend.store.rev(),
    compactRevision: () => backend.store.compactRevision(),
    history: (key, end, from, to, limit) => backend.store.eventsBetween(key, end, from, to, limit),
  }, { maxResponseBytes: opts.maxRequestBytes + GRPC_OVERHEAD_BYTES });
  backend.onEvents((events) => watchers.notify(backend.store.rev(), events));
  return watchers;
}

function applyContextOf(
  opts: ServerOptions,
  auth: AuthStore,
  v2: MemberV2Store,
  watchers: WatcherHub,
): ApplyContext {
  const { backend, lessor, membership, memberId } = opts.state;
  return {
    log: opts.logger,
    memberId,
    backend,
    membership,
    lessor,
    auth,
    v2,
    kv: {
      // A snapshot from the leader replaces the store: always read the current one.
      get store() {
        return backend.store;
      },
      leases: {
        leaseExists: (id) => lessor.lookup(id) !== undefined,
        attachLease: (id, key) => lessor.attach(id, key),
        detachLease: (id, key) => lessor.detach(id, key),
      },
      watchersWantPrevKv: () => watchers.wantsPrevKv(),
    },
  };
}
