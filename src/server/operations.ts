// The operations a member offers its clients, each built from the few parts of the member it
// uses (see ARCHITECTURE.md): KV, leases, cluster membership, maintenance, auth and v2.
import type { Applier } from "./apply/mod.ts";
import { AuthApi } from "./auth.ts";
import { ClusterApi } from "./cluster.ts";
import type { ConcurrencyDeps } from "./concurrency.ts";
import type { MemberCore } from "./core.ts";
import { ElectionApi } from "./election.ts";
import { KvApi, type KvApiDeps } from "./kv.ts";
import { LeaseApi } from "./lease.ts";
import { LockApi } from "./lock.ts";
import { Maintenance } from "./maintenance.ts";
import type { ServerOptions } from "./options.ts";
import { V2Api } from "./v2.ts";

export interface Operations {
  kv: KvApi;
  lease: LeaseApi;
  cluster: ClusterApi;
  maintenance: Maintenance;
  auth: AuthApi;
  v2: V2Api;
  election: ElectionApi;
  lock: LockApi;
}

export interface OperationsDeps {
  core: MemberCore;
  applier: Applier;
  /** Hands leadership to `target` and waits until it has taken over. */
  transferLeadership(target: bigint): Promise<void>;
  /** Where slow read-only requests are warned about (--experimental-warning-apply-duration). */
  slowReads: KvApiDeps["slowReads"];
  now(): number;
}

export function createOperations(opts: ServerOptions, deps: OperationsDeps): Operations {
  const { core, applier, now } = deps;
  const { proposer, reads, header, raft, forwarder, authStore } = core;
  const { backend, lessor, membership, node, memberId } = opts.state;
  const kv = new KvApi({
    proposer,
    reads,
    header,
    memberId,
    backend,
    kv: core.applyContext.kv,
    auth: authStore,
    lessor,
    limits: opts,
    slowReads: deps.slowReads,
  });
  const lease = new LeaseApi({
    proposer,
    reads,
    header,
    lessor,
    auth: authStore,
    forwarder,
    waitAppliedCommitted: (ms) => reads.waitAppliedCommitted(ms),
  });
  // etcd runs these recipes through an in-process client; here they call the operations.
  const recipes: ConcurrencyDeps = {
    kv,
    grantLease: async (ttl) => (await lease.grant(0n, ttl)).ID,
    watchers: core.watchers,
    header,
  };
  return {
    kv,
    lease,
    election: new ElectionApi(recipes),
    lock: new LockApi(recipes),
    cluster: new ClusterApi({
      membership,
      raft,
      node,
      header,
      forwarder,
      proposeConfChange: (cc, applied) => proposer.proposeConfChange(cc, applied),
      waitConfChange: (id) => applier.waitConfChange(id),
      strictReconfigCheck: opts.strictReconfigCheck,
      now,
    }),
    maintenance: new Maintenance({
      log: opts.logger,
      header,
      raft,
      node,
      backend,
      membership,
      proposer,
      reads,
      appliedIndex: () => applier.appliedIndex,
      transferLeadership: deps.transferLeadership,
    }),
    auth: new AuthApi({ store: authStore, proposer, reads, header, bcryptCost: opts.bcryptCost }),
    v2: new V2Api({ v2: core.v2, proposer, raft, node, membership, now }),
  };
}
