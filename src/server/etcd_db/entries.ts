// etcd 3.4's raft entries are this member's: a taken-over WAL's entries after the backend's
// consistent index go into the new log unchanged and are applied on start. Those the backend
// had applied still changed what etcd keeps outside it, the v2 store and the membership, which
// etcd rebuilds from its snapshot and the log on every start; the takeover does the same once.
import {
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
} from "../../raft/mod.ts";
import { ProtoDecodeError } from "../../pb/mod.ts";
import {
  applyClusterVersionSet,
  applyConfChangeEntry,
  applyMemberAttrSet,
} from "../apply/cluster.ts";
import type { ClusterApplyContext } from "../apply/context.ts";
import { applyV2 } from "../apply/v2.ts";
import { decodeProposal } from "../proposal.ts";
import { EtcdDbError } from "./layout.ts";

/** The advice that goes with every refusal. */
const CLEAN_STOP = "start etcd 3.4 on this data dir, let it apply its log and stop it " +
  "cleanly, then start etcd-ts on it";

export function refusal(index: number, what: string): EtcdDbError {
  return new EtcdDbError(
    `etcd's WAL holds entry ${index} (${what}) after the backend's consistent index, which ` +
      `etcd-ts cannot apply: ${CLEAN_STOP}`,
  );
}

/** Refuses the entries to apply after a takeover unless this member can apply every one. */
export function checkEtcdEntries(entries: Entry[]): void {
  for (const e of entries) {
    if (e.type === EntryType.ConfChange) continue;
    if (e.type !== EntryType.Normal) throw refusal(e.index, `entry type ${e.type}`);
    if (e.data.length === 0) continue;
    try {
      decodeProposal(e.data);
    } catch (err) {
      if (!(err instanceof ProtoDecodeError)) throw err;
      throw refusal(e.index, err.message);
    }
  }
}

/**
 * Applies what the entries the backend applied did to the v2 store and the membership (v2
 * requests, the members' attributes, the cluster version, conf changes), as etcd does when it
 * starts from its snapshot; returns the configuration after them.
 */
export function replayCluster(
  ctx: ClusterApplyContext,
  start: ConfState,
  entries: Entry[],
): ConfState {
  const voters = new Set(start.voters);
  const learners = new Set(start.learners);
  for (const e of entries) {
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      // Raft's configuration takes adds, promotions and removals, not updates of peer URLs.
      if (applyConfChangeEntry(ctx, cc, e.index) || cc.type === ConfChangeType.UpdateNode) {
        continue;
      }
      const member = ctx.membership.get(cc.nodeId);
      voters.delete(cc.nodeId);
      learners.delete(cc.nodeId);
      if (member) (member.isLearner ? learners : voters).add(cc.nodeId);
    } else if (e.type === EntryType.Normal && e.data.length > 0) {
      const p = decodeProposal(e.data);
      if (p.kind === "v2") applyV2(ctx, p.request);
      else if (p.kind === "memberAttrSet") applyMemberAttrSet(ctx, p.request);
      else if (p.kind === "clusterVersionSet") applyClusterVersionSet(ctx, p.request);
    }
  }
  const sorted = (s: Set<bigint>) => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { voters: sorted(voters), learners: sorted(learners) };
}
