// Proposing: a request becomes a raft entry, and its caller waits until the apply path hands
// back the result (etcd's processInternalRaftRequest). Raft drops proposals while there is no
// leader; etcd's callers wait for one until their request times out, and so do ours.
import { type ConfChange, RaftError, type RawNode } from "../raft/mod.ts";
import { Errors, EtcdError } from "../errors/mod.ts";
import { serverMetrics } from "../metrics/mod.ts";
import type { AuthInfo } from "../auth/mod.ts";
import type { ApplyOutcome } from "./apply/mod.ts";
import {
  encodeProposal,
  isSizeChecked,
  type Proposal,
  type ProposalKind,
  type RequestOf,
  type ResponseOf,
} from "./proposal.ts";
import type { FailStop } from "./fail_stop.ts";
import { withTimeout } from "./timeout.ts";
import { RequestIdGenerator, Wait } from "./wait.ts";

/** Proposals waiting for apply beyond this many committed-but-unapplied entries are refused. */
const MAX_GAP_BETWEEN_APPLY_AND_COMMIT = 5000;
/** Entry bytes per MsgProp when queued proposals go to raft together (etcd's MaxSizePerMsg). */
const MAX_BATCH_BYTES = 1024 * 1024;

export interface ProposeOptions {
  /** The client's identity, checked again where the entry lands in the log. */
  auth?: AuthInfo;
  /** The caller gave up (its call was cancelled): stop waiting. */
  signal?: AbortSignal;
}

/** Proposes a request and resolves with its apply result, or throws the error etcd answers. */
export interface Propose {
  propose<K extends ProposalKind>(
    kind: K,
    request: RequestOf<K>,
    opts?: ProposeOptions,
  ): Promise<ResponseOf<K>>;
}

export interface ProposerDeps {
  node: RawNode;
  /** Raft has something to do: process its Ready soon. */
  kick(): void;
  memberId: bigint;
  leader(): bigint;
  commitIndex(): number;
  appliedIndex(): number;
  stopped(): boolean;
  heartbeatMs: number;
  requestTimeoutMs: number;
  /** --max-request-bytes: the largest request etcd puts in its log. */
  maxRequestBytes: number;
  now(): number;
  /** Raft threw what it never refuses a proposal with: the member stops. */
  fatal: FailStop;
}

export class Proposer implements Propose {
  readonly #wait: Wait<ApplyOutcome, Proposal>;
  readonly #ids: RequestIdGenerator;
  /** Proposals not yet in raft, their IDs and entries: they go in together before its next
   * Ready (stepQueued). */
  #queuedIds: bigint[] = [];
  #queuedData: Uint8Array[] = [];

  constructor(readonly deps: ProposerDeps) {
    this.#wait = new Wait(deps.requestTimeoutMs, () => Errors.timeout());
    this.#ids = new RequestIdGenerator(deps.memberId, deps.now());
  }

  async propose<K extends ProposalKind>(
    kind: K,
    request: RequestOf<K>,
    opts: ProposeOptions = {},
  ): Promise<ResponseOf<K>> {
    const d = this.deps;
    if (d.stopped()) throw Errors.stopped();
    if (d.commitIndex() - d.appliedIndex() > MAX_GAP_BETWEEN_APPLY_AND_COMMIT) {
      throw Errors.tooManyRequests();
    }
    const p = { kind, id: this.#ids.next(), request, auth: opts.auth } as Proposal<K>;
    const data = encodeProposal(p);
    // etcd measures the InternalRaftRequest it marshalled, which is what the entry holds.
    if (isSizeChecked(kind) && data.length > d.maxRequestBytes) throw Errors.requestTooLarge();
    const result = this.#wait.register(p.id, p);
    const signal = opts.signal;
    const onAbort = signal && (() => this.#wait.fail(p.id, Errors.stopped()));
    if (onAbort) signal.addEventListener("abort", onAbort);
    serverMetrics.proposalsPending.inc();
    try {
      this.#queuedIds.push(p.id);
      this.#queuedData.push(data);
      d.kick();
      const outcome = await result;
      if (outcome.error) throw outcome.error;
      // The apply table answers each kind with ResponseOf<kind> (see apply/applier.ts).
      return outcome.response as ResponseOf<K>;
    } catch (err) {
      // etcd counts proposals that time out or whose caller gave up, not a stopping server.
      if (!d.stopped()) serverMetrics.proposalsFailed.inc();
      throw err;
    } finally {
      serverMetrics.proposalsPending.dec();
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Steps the proposals queued since the last Ready into raft, in order, as few MsgProps: the
   * leader then appends them at once and sends each follower one MsgApp for all of them, not
   * one per request. Raft's messages leave only with its next Ready, so this delays nothing.
   * Without a leader, or when raft drops them, they are tried again a heartbeat later.
   */
  stepQueued(): void {
    if (this.#queuedIds.length === 0) return;
    const d = this.deps;
    const ids = this.#queuedIds;
    const data = this.#queuedData;
    this.#queuedIds = [];
    this.#queuedData = [];
    if (d.stopped()) return;
    let from = 0;
    while (from < ids.length) {
      // Only those whose callers still wait, up to MAX_BATCH_BYTES (at least one).
      const batchIds: bigint[] = [];
      const batch: Uint8Array[] = [];
      let bytes = 0;
      let to = from;
      for (; to < ids.length; to++) {
        if (!this.#wait.has(ids[to])) continue;
        if (batch.length > 0 && bytes + data[to].length > MAX_BATCH_BYTES) break;
        batchIds.push(ids[to]);
        batch.push(data[to]);
        bytes += data[to].length;
      }
      if (batch.length > 0 && !this.#step(batch)) {
        return this.#retry(batchIds.concat(ids.slice(to)), batch.concat(data.slice(to)));
      }
      from = to;
    }
  }

  #step(batch: Uint8Array[]): boolean {
    const d = this.deps;
    if (d.leader() === 0n) return false;
    try {
      d.node.proposeAll(batch);
      return true;
    } catch (err) {
      if (!(err instanceof RaftError)) d.fatal("raft", err);
      return false;
    }
  }

  #retry(ids: bigint[], data: Uint8Array[]): void {
    setTimeout(() => {
      for (let i = 0; i < ids.length; i++) {
        this.#queuedIds.push(ids[i]);
        this.#queuedData.push(data[i]);
      }
      this.deps.kick();
    }, this.deps.heartbeatMs);
  }

  /** Proposes a membership change; resolves once `applied` (the apply path's signal) does. */
  async proposeConfChange(cc: ConfChange, applied: Promise<void>): Promise<void> {
    const d = this.deps;
    if (d.stopped()) throw Errors.stopped();
    try {
      d.node.proposeConfChange(cc);
      d.kick();
      await withTimeout(applied, d.requestTimeoutMs, () => Errors.timeout());
    } catch (err) {
      if (err instanceof EtcdError) throw err;
      if (!(err instanceof RaftError)) d.fatal("raft", err);
      throw d.leader() === 0n ? Errors.noLeader() : err;
    }
  }

  /** The proposal this member is waiting for under `id`, if any. */
  own(id: bigint): Proposal | undefined {
    return this.#wait.request(id);
  }

  settle(id: bigint, outcome: ApplyOutcome): void {
    this.#wait.trigger(id, outcome);
  }

  /** The member is stopping: nobody's proposal will be applied here any more. */
  failAll(err: Error): void {
    this.#wait.failAll(err);
  }
}
