// Lease operations of one member: grants and revocations go through Raft; keep-alives and
// time-to-live answers come from the leader's lessor, which alone tracks expiry.
import { MAX_LEASE_TTL, newLeaseId } from "../lease/mod.ts";
import { Errors, EtcdError, GrpcCode } from "./errors.ts";
import type { EtcdServer } from "./server.ts";

export class LeaseApi {
  constructor(readonly s: EtcdServer) {}

  async grant(ID: bigint, TTL: number) {
    if (TTL > MAX_LEASE_TTL) throw Errors.leaseTTLTooLarge();
    const id = ID === 0n ? newLeaseId() : ID;
    const res = await this.s.propose("leaseGrant", { ID: id, TTL });
    if (res.error) throw res.error;
    return { header: this.s.header(), ID: res.response.ID, TTL: res.response.TTL, error: "" };
  }

  async revoke(ID: bigint) {
    const res = await this.s.propose("leaseRevoke", { ID });
    if (res.error) throw res.error;
    return { header: this.s.header(res.response.header.revision) };
  }

  /** A keep-alive: the new TTL, or 0 for a lease that does not exist (not an error, as etcd). */
  renew(ID: bigint) {
    const s = this.s;
    if (!s.isLeader) throw Errors.notLeader();
    let TTL = 0;
    try {
      TTL = s.state.lessor.renew(ID);
    } catch (err) {
      if (!(err instanceof EtcdError && err.code === GrpcCode.NotFound)) throw err;
    }
    return { header: s.header(), ID, TTL };
  }

  timeToLive(ID: bigint, keys: boolean) {
    const t = this.s.state.lessor.timeToLive(ID, keys);
    return {
      header: this.s.header(),
      ID,
      TTL: t.TTL,
      grantedTTL: t.grantedTTL,
      keys: t.keys,
    };
  }

  leases() {
    return {
      header: this.s.header(),
      leases: this.s.state.lessor.leases().map((ID) => ({ ID })),
    };
  }
}
