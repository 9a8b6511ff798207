// Lease operations of one member: grants and revocations go through Raft; keep-alives and
// time-to-live answers come from the leader's lessor, which alone tracks expiry.
import { MAX_LEASE_TTL, newLeaseId } from "../lease/mod.ts";
import { Errors } from "../errors/mod.ts";
import { forwardToLeader, isError } from "./forward.ts";
import type { EtcdServer } from "./server.ts";
import { type AuthInfo, checkLeaseRevoke, NO_AUTH } from "../auth/mod.ts";
import { leaseKeysOf } from "./auth.ts";

/** How long the leader waits to apply what it committed before answering a follower (etcd). */
const APPLY_WAIT_MS = 1000;

export class LeaseApi {
  constructor(readonly s: EtcdServer) {}

  async grant(ID: bigint, TTL: number) {
    if (TTL > MAX_LEASE_TTL) throw Errors.leaseTTLTooLarge();
    const id = ID === 0n ? newLeaseId() : ID;
    const res = await this.s.propose("leaseGrant", { ID: id, TTL });
    if (res.error) throw res.error;
    return { header: this.s.header(), ID: res.response.ID, TTL: res.response.TTL, error: "" };
  }

  async revoke(ID: bigint, ai: AuthInfo = NO_AUTH) {
    checkLeaseRevoke(this.s.auth, ai, ID, leaseKeysOf(this.s));
    const res = await this.s.propose("leaseRevoke", { ID }, undefined, ai);
    if (res.error) throw res.error;
    return { header: this.s.header(res.response.header.revision) };
  }

  /**
   * A keep-alive: the new TTL, or 0 for a lease that does not exist (not an error, as etcd).
   * Only the leader's lessor tracks expiry: a follower forwards the renewal to it.
   */
  async renew(ID: bigint) {
    const s = this.s;
    const lessor = s.state.lessor;
    let TTL = 0;
    try {
      TTL = await forwardToLeader(s, {
        local: () => lessor.isPrimary(),
        answerLocally: () => lessor.renew(ID),
        remote: (client, url, ms) => client.renewLease(url, ID, ms),
        final: (err) => isError(err, Errors.leaseNotFound),
      });
    } catch (err) {
      if (!isError(err, Errors.leaseNotFound)) throw err;
    }
    return { header: s.header(), ID, TTL };
  }

  /** A renewal a follower forwarded: throws `not leader` unless this lessor is primary. */
  async renewForwarded(ID: bigint): Promise<number> {
    await this.s.waitAppliedCommitted(APPLY_WAIT_MS);
    return this.s.state.lessor.renew(ID);
  }

  /** The remaining TTL as the leader's lessor sees it (a follower's holds leases forever). */
  async timeToLive(ID: bigint, keys: boolean) {
    const s = this.s;
    const lessor = s.state.lessor;
    const t = await forwardToLeader(s, {
      local: () => lessor.isPrimary(),
      answerLocally: () => lessor.timeToLive(ID, keys),
      remote: (client, url, ms) =>
        client.leaseTimeToLive(url, ID, keys, ms).catch((err) => {
          // The leader does not know it: etcd answers TTL -1, as for any unknown lease.
          if (isError(err, Errors.leaseNotFound)) return { ID, TTL: -1, grantedTTL: 0, keys: [] };
          throw err;
        }),
      final: () => false,
    });
    return { header: s.header(), ID, TTL: t.TTL, grantedTTL: t.grantedTTL, keys: t.keys };
  }

  /** A time-to-live request a follower forwarded: only a primary lessor answers it. */
  async timeToLiveForwarded(ID: bigint, keys: boolean) {
    await this.s.waitAppliedCommitted(APPLY_WAIT_MS);
    const lessor = this.s.state.lessor;
    if (!lessor.isPrimary()) throw Errors.notLeader();
    if (!lessor.lookup(ID)) throw Errors.leaseNotFound();
    return lessor.timeToLive(ID, keys);
  }

  leases() {
    return {
      header: this.s.header(),
      leases: this.s.state.lessor.leases().map((ID) => ({ ID })),
    };
  }
}
