// The apply path: turns committed raft entries into changes of the key space, leases and
// membership, in log order, identically on every member and after every restart. Entries at or
// below the backend's consistent index were applied before a restart and are skipped (their
// membership effect on Raft's configuration is replayed, as it is not in the backend). Each
// proposal kind is applied by its own function (the table below); this file orders them.
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
  type Snapshot,
} from "../../raft/mod.ts";
import { assert } from "../../assert/mod.ts";
import { serverMetrics } from "../../metrics/mod.ts";
import { failpoints, hitSync } from "../../failpoint/mod.ts";
import { reloadLeases } from "../backend.ts";
import {
  appliesAsProposed,
  decodeProposal,
  type Proposal,
  proposalIdOf,
  type ProposalKind,
  type ResponseOf,
} from "../proposal.ts";
import { isRequestError } from "../request_error.ts";
import { applyAlarm, refuseIfCorrupt } from "./alarm.ts";
import { applyAuthEntry, authorizeApplied } from "./auth.ts";
import { applyClusterVersionSet, applyMemberAttrSet, applyMembershipChange } from "./cluster.ts";
import { type ApplyContext, leaseKeysOf } from "./context.ts";
import { applyCompaction, applyDeleteRange, applyPut } from "./kv.ts";
import { applyLeaseCheckpoint, applyLeaseGrant, applyLeaseRevoke } from "./lease.ts";
import { applyTxn } from "./txn.ts";

/** What a waiting proposer is handed: its response, or the error etcd answers instead. */
export type ApplyOutcome = { response: unknown; error?: undefined } | { error: Error };

/** Where the applied log stands; shared with snapshotting, which saves it. */
export interface AppliedState {
  index: number;
  /** Term of the entry at `index` (etcd's appliedt): a snapshot sent from here carries it. */
  term: number;
  confState: ConfState;
  /** Index and term of the newest raft snapshot (0 when none). */
  snapshotIndex: number;
  snapshotTerm: number;
}

export interface ApplierDeps {
  ctx: ApplyContext;
  applied: AppliedState;
  raft: {
    isLeader(): boolean;
    term(): number;
    applyConfChange(cc: ConfChange): ConfState;
  };
  electionMs: number;
  /** The proposals this member is waiting for. */
  proposals: {
    own(id: bigint): Proposal | undefined;
    settle(id: bigint, outcome: ApplyOutcome): void;
  };
  /** After every applied membership change (and after a snapshot replaced it). */
  membershipChanged(): void;
  /** A committed conf change removed this member. */
  removed(): void;
  /** A snapshot from the leader replaced the state: derived views must reload. */
  snapshotInstalled(): void;
  /** Told how long applying took (etcd's slow-request warnings). */
  timing: ApplyTiming;
}

/** Where apply times go: per batch, and per request while `perRequest` asks for it. */
export interface ApplyTiming {
  readonly perRequest: boolean;
  /** A request timed on its own. */
  applied(p: Proposal, outcome: ApplyOutcome, tookMs: number): void;
  /** A batch of `requests` requests, the last of them `last`. */
  batch(tookMs: number, requests: number, last?: [Proposal, ApplyOutcome]): void;
  /** A request that failed in a batch timed as a whole (`tookMs` counts from its start). */
  failed(p: Proposal, outcome: ApplyOutcome, tookMs: number): void;
}

/** One batch being applied, as its timing sees it. */
interface Batch {
  start: number;
  perRequest: boolean;
  requests: number;
  last?: [Proposal, ApplyOutcome];
  failed?: [Proposal, ApplyOutcome, number][];
}

type Appliers = {
  [K in ProposalKind]: (ctx: ApplyContext, p: Proposal<K>, index: number) => ResponseOf<K>;
};

const appliers: Appliers = {
  put: (ctx, p) => (refuseIfCorrupt(ctx), applyPut(ctx.kv, p.request)),
  deleteRange: (ctx, p) => (refuseIfCorrupt(ctx), applyDeleteRange(ctx.kv, p.request)),
  txn: (ctx, p) => applyTxn(ctx.kv, p.request),
  compaction: (ctx, p) => applyCompaction(ctx.kv, p.request, ctx.log),
  leaseGrant: (ctx, p) => applyLeaseGrant(ctx.lessor, p.request),
  leaseRevoke: (ctx, p) => applyLeaseRevoke(ctx.kv, ctx.lessor, p.request),
  alarm: (ctx, p) => applyAlarm(ctx, p.request),
  clusterVersionSet: (ctx, p) => applyClusterVersionSet(ctx, p.request),
  memberAttrSet: (ctx, p) => applyMemberAttrSet(ctx, p.request),
  v2: (ctx, p) => ctx.v2.apply(p.request),
  auth: (ctx, p, index) => applyAuthEntry(ctx.auth, p, index),
  leaseCheckpoint: (ctx, p) => applyLeaseCheckpoint(ctx.kv, ctx.lessor, p.request),
};

/** etcd's default --experimental-warning-apply-duration: a slower apply counts as slow. */
const SLOW_APPLY_MS = 100;

function dispatch<K extends ProposalKind>(ctx: ApplyContext, p: Proposal<K>, index: number) {
  return (appliers[p.kind] as Appliers[K])(ctx, p, index);
}

export class Applier {
  readonly #confWait = new Map<number, () => void>();

  constructor(readonly deps: ApplierDeps) {}

  get appliedIndex(): number {
    return this.deps.applied.index;
  }

  apply(entries: Entry[]): void {
    const { ctx, applied, timing } = this.deps;
    const store = ctx.backend.store;
    const batch: Batch = { start: performance.now(), perRequest: timing.perRequest, requests: 0 };
    for (const e of entries) {
      if (e.index <= applied.index) continue;
      assert(e.index === applied.index + 1, `applying entry ${e.index} after ${applied.index}`);
      if (failpoints.on) {
        hitSync(
          e.type === EntryType.ConfChange
            ? "beforeApplyOneConfChange"
            : "beforeApplyOneEntryNormal",
        );
      }
      const alreadyApplied = e.index <= store.consistentIndex();
      if (e.type === EntryType.ConfChange) {
        this.#applyConfChange(decodeConfChange(e.data), alreadyApplied);
      } else if (e.data.length === 0) {
        this.#applyLeaderNoop(e);
      } else if (!alreadyApplied) {
        this.#applyTimed(this.#proposalOf(e.data), e.index, batch);
      }
      if (!alreadyApplied) store.setConsistentIndex(e.index);
      applied.index = e.index;
      applied.term = e.term;
    }
    timing.batch(performance.now() - batch.start, batch.requests, batch.last);
    for (const [p, outcome, took] of batch.failed ?? []) timing.failed(p, outcome, took);
    ctx.backend.applied(entries.length);
  }

  // Applies a proposal, timing it alone only when the timing asks (etcd's slow-request and
  // failed-request warnings); failures in a batch timed whole are reported after it.
  #applyTimed(p: Proposal, index: number, batch: Batch): void {
    const begun = batch.perRequest ? performance.now() : batch.start;
    const outcome = this.#applyProposal(p, index);
    if (batch.perRequest) this.deps.timing.applied(p, outcome, performance.now() - begun);
    else if (outcome.error) (batch.failed ??= []).push([p, outcome, performance.now() - begun]);
    batch.last = [p, outcome];
    batch.requests++;
  }

  // The proposer still holds the proposal it encoded into the entry; applying that object
  // skips decoding it again. IDs carry the member's bits, so another member's entry never
  // matches one of ours.
  #proposalOf(data: Uint8Array): Proposal {
    const own = this.deps.proposals.own(proposalIdOf(data));
    return own && appliesAsProposed(own.kind) ? own : decodeProposal(data);
  }

  // A new leader's empty entry: everything of earlier terms is applied now, so the leader
  // takes over lease expiry from here, with full TTLs or checkpointed remaining ones (etcd 3.4).
  #applyLeaderNoop(e: Entry): void {
    const { raft, ctx, electionMs } = this.deps;
    if (raft.isLeader() && e.term === raft.term()) ctx.lessor.promote(electionMs);
  }

  #applyProposal(p: Proposal, index: number): ApplyOutcome {
    const { ctx, proposals } = this.deps;
    let outcome: ApplyOutcome;
    const start = performance.now();
    try {
      authorizeApplied(ctx.auth, p, leaseKeysOf(ctx.lessor));
      outcome = { response: dispatch(ctx, p, index) };
    } catch (err) {
      // A refused request is an answer; anything else is a broken invariant (fail-stop).
      if (!isRequestError(err)) throw err;
      outcome = { error: err };
    }
    if (performance.now() - start > SLOW_APPLY_MS) serverMetrics.slowApplies.inc();
    if (p.id !== 0n) proposals.settle(p.id, outcome);
    return outcome;
  }

  /** Registers a caller waiting for the conf change with this ID to be applied. */
  waitConfChange(id: number): Promise<void> {
    return new Promise((resolve) => this.#confWait.set(id, resolve));
  }

  #applyConfChange(cc: ConfChange, alreadyApplied: boolean): void {
    const { ctx, raft, applied } = this.deps;
    if (!alreadyApplied) applyMembershipChange(ctx, cc);
    applied.confState = raft.applyConfChange(cc);
    this.deps.membershipChanged();
    if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === ctx.memberId) this.deps.removed();
    this.#confWait.get(cc.id)?.();
    this.#confWait.delete(cc.id);
  }

  /** A snapshot from the leader replaced our state: reload everything derived from it. */
  applySnapshot(snap: Snapshot): Promise<void> {
    const { ctx, applied } = this.deps;
    const index = snap.metadata.index;
    ctx.log.info({ pkg: "etcdserver", text: `applying snapshot at index ${index}...` });
    serverMetrics.applySnapshotInProgress.inc();
    // The leader sends its whole backend as the snapshot's data (see peer/).
    ctx.backend.restore(snap.data);
    ctx.membership.replaceWith(ctx.backend.loadMembership()!);
    reloadLeases(ctx.lessor, ctx.backend);
    ctx.auth.reload();
    ctx.v2.reload();
    this.deps.snapshotInstalled();
    Object.assign(applied, {
      index,
      term: snap.metadata.term,
      confState: snap.metadata.confState,
      snapshotIndex: index,
      snapshotTerm: snap.metadata.term,
    });
    this.deps.membershipChanged();
    serverMetrics.applySnapshotInProgress.dec();
    ctx.log.info({
      pkg: "etcdserver",
      text: `finished applying incoming snapshot at index ${index}`,
      msg: "applied snapshot",
      fields: { "incoming-leader-snapshot-index": index },
    });
    return Promise.resolve();
  }
}
