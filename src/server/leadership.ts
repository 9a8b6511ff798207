// Leadership transfer (etcd's MoveLeader, and its TransferLeadership on shutdown): raft is asked
// to hand over to a target, and the caller waits until the target has taken over.
import type { RawNode } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { Errors } from "../errors/mod.ts";
import { failpoints, hit } from "../failpoint/mod.ts";
import { formatId } from "./ids.ts";
import type { RaftStatus } from "./raft_status.ts";
import { withTimeout } from "./timeout.ts";

export interface LeadershipDeps {
  log: Logger;
  memberId: bigint;
  node: RawNode;
  raft: RaftStatus;
  /** Raft has something to do: process its Ready soon. */
  kick(): void;
}

/** Hands leadership to `target` and waits until it has taken over. */
export async function transferLeadership(
  deps: LeadershipDeps,
  target: bigint,
  timeoutMs: number,
): Promise<void> {
  if (failpoints.on) await hit("beforeTransferLeadership");
  const taken = deps.raft.leaderIs(target);
  deps.node.transferLeader(target);
  deps.kick();
  return await withTimeout(taken, timeoutMs, () => Errors.timeout());
}

// A leader of several voters hands over before it goes, so the cluster does not wait an
// election timeout for a new one (etcd's TransferLeadership on shutdown): to the voter whose
// log is furthest along.
export async function handOverLeadership(deps: LeadershipDeps, timeoutMs: number): Promise<void> {
  const { log, memberId } = deps;
  if (!deps.raft.isLeader) return;
  const status = deps.node.status();
  const candidates = status.config.voters.filter((id) => id !== memberId);
  if (candidates.length === 0) return;
  const target = candidates.reduce((best, id) =>
    (status.progress.get(id)?.match ?? 0) > (status.progress.get(best)?.match ?? 0) ? id : best
  );
  log.info({
    pkg: "etcdserver",
    text: `${formatId(memberId)} starts leadership transfer from ${formatId(memberId)} to ${
      formatId(target)
    }`,
  });
  try {
    await transferLeadership(deps, target, timeoutMs);
  } catch {
    log.warn({ pkg: "etcdserver", text: "leadership transfer failed; stopping anyway" });
  }
}
