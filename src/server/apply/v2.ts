// Applying a v2 request as etcd's applierV2store does: a plain PUT of a member's attributes or
// of the cluster version under /0 changes the membership (and /0 with it); everything else is
// a v2 store operation on the member's store (keys under /1, v2 auth under /2).
import { parseAttributes } from "../membership.ts";
import type { ResponseOf } from "../proposal.ts";
import { type EtcdV2Request, fromEtcdV2Request } from "../v2_request.ts";
import { applyClusterVersionSet, applyMemberAttrSet } from "./cluster.ts";
import type { ClusterApplyContext } from "./context.ts";

const MEMBER_ATTRIBUTES = /^\/0\/members\/([0-9a-fA-F]{1,16})\/attributes$/;
const CLUSTER_VERSION = "/0/version";

export function applyV2(ctx: ClusterApplyContext, r: EtcdV2Request): ResponseOf<"v2"> {
  const plainPut = r.Method === "PUT" && r.PrevExist === undefined && r.PrevIndex === 0 &&
    r.PrevValue === "";
  const attr = plainPut ? MEMBER_ATTRIBUTES.exec(r.Path) : null;
  if (attr) {
    const { name, clientURLs } = parseAttributes(r.Val);
    applyMemberAttrSet(ctx, { memberId: BigInt("0x" + attr[1]), name, clientURLs });
    return {};
  }
  if (plainPut && r.Path === CLUSTER_VERSION) {
    applyClusterVersionSet(ctx, { version: r.Val });
    return {};
  }
  const req = fromEtcdV2Request(r);
  // etcd answers an unknown method with an error nobody here waits for.
  return req ? ctx.v2.apply(req) : {};
}
