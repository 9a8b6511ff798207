// Applying what changes the cluster rather than the key space, as etcd 3.4 applies it:
// membership conf changes (checked again here, their context etcd's Member or
// ConfigChangeContext JSON), members publishing their attributes and the cluster version (v2
// PUTs under /0). Each lands in the v2 store's /0 and the backend's membership buckets
// (membership_store.ts), in the same batch as the entry's consistent index.
import { type ConfChange, ConfChangeType } from "../../raft/mod.ts";
import { Errors } from "../../errors/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { downgradeRefusal, shortVersion } from "../cluster_version.ts";
import { formatId } from "../ids.ts";
import { type MemberContext, type Membership, parseMemberJSON } from "../membership.ts";
import type { RequestOf } from "../proposal.ts";
import type { ClusterApplyContext } from "./context.ts";

const fromUtf8 = new TextDecoder();

/** etcd allows one learner at a time. */
const MAX_LEARNERS = 1;

export function applyMemberAttrSet(
  ctx: ClusterApplyContext,
  req: RequestOf<"memberAttrSet">,
): void {
  if (!ctx.cluster.updateAttributes(req.memberId, req.name, req.clientURLs)) {
    ctx.log.warn({
      pkg: "etcdserver/membership",
      text: `skipped updating attributes of removed member ${formatId(req.memberId)}`,
    });
  }
}

export function applyClusterVersionSet(
  ctx: ClusterApplyContext,
  req: RequestOf<"clusterVersionSet">,
): void {
  const from = shortVersion(ctx.membership.version);
  const to = shortVersion(req.version);
  // etcd's mustDetectDowngrade: this member cannot run the cluster at that version.
  const refusal = downgradeRefusal(req.version);
  if (refusal) throw new Error(refusal);
  ctx.cluster.setVersion(req.version);
  if (from === "") {
    ctx.log.notice({
      pkg: "etcdserver/membership",
      text: `set the initial cluster version to ${to}`,
      msg: "set initial cluster version",
      fields: { "cluster-version": to },
    });
  } else {
    ctx.log.notice({
      pkg: "etcdserver/membership",
      text: `updated the cluster version from ${from} to ${to}`,
    });
  }
  announceCapabilities(ctx.log, to);
}

/** etcd logs this whenever the cluster version becomes known; operators' scripts wait for it. */
export function announceCapabilities(log: Logger, shortVersion: string): void {
  log.info({
    pkg: "etcdserver/api",
    text: `enabled capabilities for version ${shortVersion}`,
    msg: "enabled capabilities for version",
    fields: { "cluster-version": shortVersion },
  });
}

function contextOf(cc: ConfChange, m: Membership): MemberContext {
  const c = parseMemberJSON(fromUtf8.decode(cc.context));
  // etcd-ts once promoted a learner with an AddNode of the member itself.
  if (c.legacy && cc.type === ConfChangeType.AddNode && m.get(cc.nodeId)?.isLearner) {
    c.isPromote = true;
  }
  if (c.member.id !== cc.nodeId) {
    throw new Error(
      `got different member ID: conf change ${formatId(cc.nodeId)}, context ${
        formatId(c.member.id)
      }`,
    );
  }
  return c;
}

/** etcd's ValidateConfigurationChange: the error a committed conf change is refused with. */
function validateConfChange(m: Membership, cc: ConfChange): Error | undefined {
  const id = cc.nodeId;
  if (m.removed.has(id)) return Errors.memberNotFound();
  const member = m.get(id);
  switch (cc.type) {
    case ConfChangeType.AddNode:
    case ConfChangeType.AddLearnerNode: {
      const c = contextOf(cc, m);
      if (c.isPromote) {
        if (!member) return Errors.memberNotFound();
        return member.isLearner ? undefined : Errors.memberNotLearner();
      }
      if (member) return Errors.memberExist();
      const taken = new Set(m.list().flatMap((x) => x.peerURLs));
      if (c.member.peerURLs.some((u) => taken.has(u))) return Errors.peerURLExist();
      const learners = m.list().filter((x) => x.isLearner).length;
      if (c.member.isLearner && learners + 1 > MAX_LEARNERS) return Errors.tooManyLearners();
      return undefined;
    }
    case ConfChangeType.RemoveNode:
      return member ? undefined : Errors.memberNotFound();
    case ConfChangeType.UpdateNode: {
      if (!member) return Errors.memberNotFound();
      const taken = new Set(m.list().filter((x) => x.id !== id).flatMap((x) => x.peerURLs));
      return contextOf(cc, m).member.peerURLs.some((u) => taken.has(u))
        ? Errors.peerURLExist()
        : undefined;
    }
  }
}

/**
 * etcd's applyConfChange for the membership: a refused change is recorded (a restart applies
 * the entry again and must leave it out of Raft's configuration too) and its error returned.
 */
export function applyConfChangeEntry(
  ctx: ClusterApplyContext,
  cc: ConfChange,
  index: number,
): Error | undefined {
  const refused = validateConfChange(ctx.membership, cc);
  if (refused) ctx.backend.refuseConfChange(index);
  else applyMembershipChange(ctx, cc);
  return refused;
}

/** Changes the membership as a (validated) committed conf change says, and persists it. */
function applyMembershipChange(ctx: ClusterApplyContext, cc: ConfChange): void {
  const cid = formatId(ctx.membership.clusterId);
  switch (cc.type) {
    case ConfChangeType.AddNode:
    case ConfChangeType.AddLearnerNode: {
      const { member, isPromote } = contextOf(cc, ctx.membership);
      if (isPromote) {
        const m = ctx.membership.get(cc.nodeId)!;
        ctx.cluster.updateRaftAttributes(cc.nodeId, m.peerURLs, false);
        ctx.log.notice({
          pkg: "etcdserver/membership",
          text: `promote member ${formatId(cc.nodeId)} in cluster ${cid}`,
        });
        break;
      }
      ctx.cluster.addMember(member);
      ctx.log.info({
        pkg: "etcdserver/membership",
        text: `added member ${formatId(member.id)} [${
          member.peerURLs.join(" ")
        }] to cluster ${cid}`,
        msg: "added member",
        fields: {
          "added-peer-id": formatId(member.id),
          "added-peer-peer-urls": member.peerURLs,
        },
      });
      break;
    }
    case ConfChangeType.RemoveNode:
      ctx.cluster.removeMember(cc.nodeId);
      ctx.log.info({
        pkg: "etcdserver/membership",
        text: `removed member ${formatId(cc.nodeId)} from cluster ${cid}`,
      });
      break;
    case ConfChangeType.UpdateNode: {
      const { member } = contextOf(cc, ctx.membership);
      ctx.cluster.updateRaftAttributes(cc.nodeId, member.peerURLs, member.isLearner);
      ctx.log.info({
        pkg: "etcdserver/membership",
        text: `updated member ${formatId(cc.nodeId)} [${
          member.peerURLs.join(" ")
        }] in cluster ${cid}`,
      });
      break;
    }
  }
}
