// Requests only the leader can answer (lease keep-alives and time-to-live, learner promotion)
// reach it from followers over the peer port, as etcd forwards them: wait for a leader, try
// each of its peer URLs, retry until the request timeout.
import { Errors, EtcdError } from "../errors/mod.ts";
import type { Membership } from "./membership.ts";
import type { RaftStatus } from "./raft_status.ts";

/** The member's way to the leader's peer listener (the peer module's client, set at wiring). */
export interface LeaderClient {
  renewLease(peerURL: string, id: bigint, timeoutMs: number): Promise<number>;
  leaseTimeToLive(peerURL: string, id: bigint, keys: boolean, timeoutMs: number): Promise<{
    ID: bigint;
    TTL: number;
    grantedTTL: number;
    keys: Uint8Array[];
  }>;
  promoteMember(peerURL: string, id: bigint, timeoutMs: number): Promise<{
    id: bigint;
    name: string;
    peerURLs: string[];
    clientURLs: string[];
    isLearner: boolean;
  }[]>;
  /** A member's HashKV at `revision` over its peer URL (the corruption checks ask it). */
  hashKV(peerURL: string, revision: number, timeoutMs: number): Promise<{
    revision: number;
    hash: number;
    compactRevision: number;
  }>;
}

/** etcd throttles retries after every URL of the leader failed (connection problems, say). */
const RETRY_MS = 50;
/** How often a member without a leader looks again. */
const LEADER_POLL_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Forwarded<T> {
  /** Whether this member answers itself (it is the leader, its lessor primary). */
  local(): boolean;
  answerLocally(): T | Promise<T>;
  remote(client: LeaderClient, peerURL: string, timeoutMs: number): Promise<T>;
  /** Answers that settle the request (not found, refused); other failures are retried. */
  final(err: unknown): boolean;
  /** An error of answerLocally that means leadership moved meanwhile: look for the leader. */
  movedAway(err: unknown): boolean;
}

export interface ForwarderDeps {
  raft: RaftStatus;
  membership: Membership;
  requestTimeoutMs: number;
  stopped(): boolean;
  now(): number;
}

export class LeaderForwarder {
  /** How requests only the leader answers reach it from here; set when peers are wired. */
  client?: LeaderClient;

  constructor(readonly deps: ForwarderDeps) {}

  /**
   * Answers locally when this member can, else forwards to the leader; `etcdserver: no leader`
   * when none shows up, `etcdserver: request timed out` when the leader does not answer in time.
   */
  async forward<T>(f: Forwarded<T>): Promise<T> {
    const d = this.deps;
    const deadline = d.now() + d.requestTimeoutMs;
    for (;;) {
      if (d.stopped()) throw Errors.stopped();
      if (f.local()) {
        try {
          return await f.answerLocally();
        } catch (err) {
          if (!f.movedAway(err)) throw err;
        }
      }
      const client = this.client;
      if (!client) throw Errors.notLeader();
      const leader = await this.#waitLeader(deadline);
      if (leader.id !== d.raft.memberId) {
        for (const url of leader.peerURLs) {
          const left = deadline - d.now();
          if (left <= 0) break;
          try {
            return await f.remote(client, url, left);
          } catch (err) {
            if (f.final(err)) throw err;
          }
        }
      }
      if (d.now() >= deadline) throw Errors.timeout();
      await sleep(RETRY_MS);
    }
  }

  /** The leader as the membership knows it, once there is one (etcd's waitLeader). */
  async #waitLeader(deadline: number) {
    const d = this.deps;
    for (;;) {
      const lead = d.raft.leader;
      const leader = lead === 0n ? undefined : d.membership.get(lead);
      if (leader && leader.peerURLs.length > 0) return leader;
      if (d.stopped()) throw Errors.stopped();
      if (d.now() >= deadline) throw Errors.noLeader();
      await sleep(Math.min(LEADER_POLL_MS, Math.max(1, deadline - d.now())));
    }
  }
}

/** Whether `err` is the catalogue error `make` builds (same message). */
export const isEtcdError = (err: unknown, make: () => EtcdError) =>
  err instanceof EtcdError && err.message === make().message;
