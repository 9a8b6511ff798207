// Lease checkpointing on this member (--experimental-enable-lease-checkpoint): the lessor gets a
// checkpointer that proposes LeaseCheckpoint entries, and every half second, as etcd's lessor
// loop, the leader hands over the checkpoints that are due. The entries apply on every member,
// so whichever becomes leader next resumes each lease from its recorded remaining TTL.
import type { CheckpointOptions, LeaseCheckpoint, Lessor } from "../lease/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Propose } from "./proposer.ts";

/** etcd's lessor loop period. */
const LOOP_MS = 500;

export interface LeaseCheckpointDeps {
  lessor: Lessor;
  proposer: Propose;
  log: Logger;
  isLeader(): boolean;
}

/** Turns checkpointing on; clearing the returned interval stops the loop. */
export function startLeaseCheckpoints(
  deps: LeaseCheckpointDeps,
  opts: CheckpointOptions,
): ReturnType<typeof setInterval> {
  const { lessor, proposer, log } = deps;
  lessor.setCheckpointer((checkpoints) => {
    for (const c of checkpoints) logCheckpoint(log, c);
    // Like etcd's raftRequestOnce whose result nobody reads: a lost proposal is not retried,
    // the lease then resumes from its previous checkpoint (or its full TTL).
    void proposer.propose("leaseCheckpoint", { checkpoints }).catch(() => {});
  }, opts);
  return setInterval(() => {
    if (deps.isLeader()) lessor.checkpointScheduled();
  }, LOOP_MS);
}

/**
 * Commits the checkpoint a keep-alive needs before the lessor renews the lease (etcd's Renew
 * waits for it the same way), so a later leader does not resume from a stale remaining TTL.
 */
export async function commitRenewalCheckpoint(
  lessor: Lessor,
  proposer: Propose,
  id: bigint,
): Promise<void> {
  const clearing = lessor.renewalCheckpoint(id);
  if (clearing) await proposer.propose("leaseCheckpoint", { checkpoints: [clearing] });
}

function logCheckpoint(log: Logger, c: LeaseCheckpoint): void {
  if (!log.enabled("debug")) return;
  log.debug({
    pkg: "lease",
    text: `checkpointing lease ${
      c.ID.toString(16).padStart(16, "0")
    } with remaining TTL ${c.remainingTTL}s`,
    msg: "Checkpointing lease",
    fields: { leaseID: c.ID, remainingTTL: c.remainingTTL },
  });
}
