// Applying what changes the cluster rather than the key space: membership conf changes (their
// context is the member, as JSON), members publishing their attributes, and the cluster version.
// Each is persisted in the backend in the same batch as the entry's consistent index.
import { type ConfChange, ConfChangeType } from "../../raft/mod.ts";
import type { Logger } from "../../log/mod.ts";
import { formatId } from "../ids.ts";
import { memberFromJSON, type Membership } from "../membership.ts";
import type { RequestOf } from "../proposal.ts";
import type { ApplyContext } from "./context.ts";

const fromUtf8 = new TextDecoder();

export function applyMemberAttrSet(ctx: ApplyContext, req: RequestOf<"memberAttrSet">): void {
  ctx.membership.setAttributes(req.memberId, req.name, req.clientURLs);
  ctx.backend.saveMembership(ctx.membership);
}

export function applyClusterVersionSet(
  ctx: ApplyContext,
  req: RequestOf<"clusterVersionSet">,
): void {
  const first = ctx.membership.version === "";
  ctx.membership.version = req.version;
  ctx.backend.saveMembership(ctx.membership);
  const short = req.version.split(".").slice(0, 2).join(".");
  if (first) {
    ctx.log.notice({
      pkg: "etcdserver/membership",
      text: `set the initial cluster version to ${short}`,
      msg: "set initial cluster version",
      fields: { "cluster-version": short },
    });
  }
  announceCapabilities(ctx.log, short);
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

/** Changes the membership as a committed conf change says, and persists it. */
export function applyMembershipChange(ctx: ApplyContext, cc: ConfChange): void {
  const m = ctx.membership;
  switch (cc.type) {
    case ConfChangeType.AddNode:
    case ConfChangeType.AddLearnerNode:
      addMember(ctx.log, m, cc);
      break;
    case ConfChangeType.RemoveNode:
      m.remove(cc.nodeId);
      ctx.log.info({
        pkg: "etcdserver/membership",
        text: `removed member ${formatId(cc.nodeId)} from cluster ${formatId(m.clusterId)}`,
      });
      break;
    case ConfChangeType.UpdateNode: {
      const member = memberFromJSON(JSON.parse(fromUtf8.decode(cc.context)));
      m.updatePeerURLs(cc.nodeId, member.peerURLs);
      ctx.log.info({
        pkg: "etcdserver/membership",
        text: `updated member ${formatId(cc.nodeId)} [${member.peerURLs.join(" ")}] in cluster ${
          formatId(m.clusterId)
        }`,
      });
      break;
    }
  }
  ctx.backend.saveMembership(m);
}

// AddNode of a known learner promotes it; AddNode or AddLearnerNode of a new ID adds the member
// its context describes.
function addMember(log: Logger, m: Membership, cc: ConfChange): void {
  const cid = formatId(m.clusterId);
  const existing = m.get(cc.nodeId);
  if (existing && cc.type === ConfChangeType.AddNode && existing.isLearner) {
    m.promote(cc.nodeId);
    log.notice({
      pkg: "etcdserver/membership",
      text: `promote member ${formatId(cc.nodeId)} in cluster ${cid}`,
    });
  } else if (!existing) {
    const member = memberFromJSON(JSON.parse(fromUtf8.decode(cc.context)));
    m.add(member);
    log.info({
      pkg: "etcdserver/membership",
      text: `added member ${formatId(member.id)} [${member.peerURLs.join(" ")}] to cluster ${cid}`,
      msg: "added member",
      fields: {
        "added-peer-id": formatId(member.id),
        "added-peer-peer-urls": member.peerURLs,
      },
    });
  }
}
