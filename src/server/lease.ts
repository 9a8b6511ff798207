// Lease operations of one member: grants and revocations go through Raft; keep-alives and
// time-to-live answers come from the leader's lessor, which alone tracks expiry.
import { LeaseError, type Lessor, MAX_LEASE_TTL, newLeaseId } from "../lease/mod.ts";
import { type AuthInfo, type AuthStore, checkLeaseRevoke, NO_AUTH } from "../auth/mod.ts";
import { leaseKeysOf } from "./apply/mod.ts";
import type { LeaderForwarder } from "./forward.ts";
import { commitRenewalCheckpoint } from "./lease_checkpoint.ts";
import type { HeaderOf } from "./header.ts";
import type { Propose } from "./proposer.ts";
import type { ReadBarrier } from "./reads.ts";

/** How long the leader waits to apply what it committed before answering a follower (etcd). */
const APPLY_WAIT_MS = 1000;

export interface LeaseApiDeps {
  proposer: Propose;
  reads: ReadBarrier;
  header: HeaderOf;
  lessor: Lessor;
  auth: AuthStore;
  forwarder: LeaderForwarder;
  /** Waits until everything committed so far is applied (etcd's applyWait). */
  waitAppliedCommitted(timeoutMs: number): Promise<void>;
}

const isLeaseError = (err: unknown, reason: LeaseError["reason"]) =>
  err instanceof LeaseError && err.reason === reason;
const notPrimary = (err: unknown) => isLeaseError(err, "notPrimary");

export class LeaseApi {
  constructor(readonly deps: LeaseApiDeps) {}

  async grant(ID: bigint, TTL: number) {
    if (TTL > MAX_LEASE_TTL) throw new LeaseError("ttlTooLarge");
    const id = ID === 0n ? newLeaseId() : ID;
    const res = await this.deps.proposer.propose("leaseGrant", { ID: id, TTL });
    return { header: this.deps.header(), ID: res.ID, TTL: res.TTL, error: "" };
  }

  async revoke(ID: bigint, ai: AuthInfo = NO_AUTH) {
    const { auth, lessor, proposer, header } = this.deps;
    checkLeaseRevoke(auth, ai, ID, leaseKeysOf(lessor));
    const res = await proposer.propose("leaseRevoke", { ID }, { auth: ai });
    return { header: header(res.header.revision) };
  }

  /**
   * A keep-alive: the new TTL, or 0 for a lease that does not exist (not an error, as etcd).
   * Only the leader's lessor tracks expiry: a follower forwards the renewal to it.
   */
  async renew(ID: bigint) {
    const { lessor, forwarder, header } = this.deps;
    let TTL = 0;
    try {
      TTL = await forwarder.forward({
        local: () => lessor.isPrimary(),
        answerLocally: () => this.#renewHere(ID),
        remote: (client, url, ms) => client.renewLease(url, ID, ms),
        final: (err) => isLeaseError(err, "notFound"),
        movedAway: notPrimary,
      });
    } catch (err) {
      if (!isLeaseError(err, "notFound")) throw err;
    }
    return { header: header(), ID, TTL };
  }

  /** A renewal a follower forwarded: throws `notPrimary` unless this lessor is primary. */
  async renewForwarded(ID: bigint): Promise<number> {
    await this.deps.waitAppliedCommitted(APPLY_WAIT_MS);
    return await this.#renewHere(ID);
  }

  async #renewHere(ID: bigint): Promise<number> {
    await commitRenewalCheckpoint(this.deps.lessor, this.deps.proposer, ID);
    return this.deps.lessor.renew(ID);
  }

  /** The remaining TTL as the leader's lessor sees it (a follower's holds leases forever). */
  async timeToLive(ID: bigint, keys: boolean) {
    const { lessor, forwarder, header, reads } = this.deps;
    await reads.linearizableRead();
    const t = await forwarder.forward({
      local: () => lessor.isPrimary(),
      answerLocally: () => lessor.timeToLive(ID, keys),
      remote: (client, url, ms) =>
        client.leaseTimeToLive(url, ID, keys, ms).catch((err) => {
          // The leader does not know it: etcd answers TTL -1, as for any unknown lease.
          if (isLeaseError(err, "notFound")) return { ID, TTL: -1, grantedTTL: 0, keys: [] };
          throw err;
        }),
      final: () => false,
      movedAway: notPrimary,
    });
    return { header: header(), ID, TTL: t.TTL, grantedTTL: t.grantedTTL, keys: t.keys };
  }

  /** A time-to-live request a follower forwarded: only a primary lessor answers it. */
  async timeToLiveForwarded(ID: bigint, keys: boolean) {
    await this.deps.waitAppliedCommitted(APPLY_WAIT_MS);
    const { lessor } = this.deps;
    if (!lessor.isPrimary()) throw new LeaseError("notPrimary");
    if (!lessor.lookup(ID)) throw new LeaseError("notFound");
    return lessor.timeToLive(ID, keys);
  }

  async leases() {
    await this.deps.reads.linearizableRead();
    return {
      header: this.deps.header(),
      leases: this.deps.lessor.leases().map((ID) => ({ ID })),
    };
  }
}
