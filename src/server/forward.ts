// Requests only the leader can answer (lease keep-alives and time-to-live, learner promotion)
// reach it from followers over the peer port, as etcd forwards them: wait for a leader, try
// each of its peer URLs, retry until the request timeout.
import { Errors, EtcdError } from "../errors/mod.ts";
import type { EtcdServer } from "./server.ts";

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
}

export const isError = (err: unknown, make: () => EtcdError) =>
  err instanceof EtcdError && err.message === make().message;

/**
 * Answers locally when this member can, else forwards to the leader; `etcdserver: no leader`
 * when none shows up, `etcdserver: request timed out` when the leader does not answer in time.
 */
export async function forwardToLeader<T>(s: EtcdServer, f: Forwarded<T>): Promise<T> {
  const deadline = s.now() + s.requestTimeoutMs;
  for (;;) {
    if (s.stopped) throw Errors.stopped();
    if (f.local()) {
      try {
        return await f.answerLocally();
      } catch (err) {
        // Leadership moved between the check and the answer: look for the new leader.
        if (!isError(err, Errors.notLeader)) throw err;
      }
    }
    const client = s.leaderClient;
    if (!client) throw Errors.notLeader();
    const leader = await waitLeader(s, deadline);
    if (leader.id !== s.memberId) {
      for (const url of leader.peerURLs) {
        const left = deadline - s.now();
        if (left <= 0) break;
        try {
          return await f.remote(client, url, left);
        } catch (err) {
          if (f.final(err)) throw err;
        }
      }
    }
    if (s.now() >= deadline) throw Errors.timeout();
    await sleep(RETRY_MS);
  }
}

/** The leader as the membership knows it, once there is one (etcd's waitLeader). */
async function waitLeader(s: EtcdServer, deadline: number) {
  for (;;) {
    const leader = s.leader === 0n ? undefined : s.state.membership.get(s.leader);
    if (leader && leader.peerURLs.length > 0) return leader;
    if (s.stopped) throw Errors.stopped();
    if (s.now() >= deadline) throw Errors.noLeader();
    await sleep(Math.min(LEADER_POLL_MS, Math.max(1, deadline - s.now())));
  }
}
