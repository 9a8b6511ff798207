// What etcd's v2 HTTP API needs from a member (V2Deps), built from the member's V2Api and its
// cluster operations; the membership errors become the reasons the v2 members API reports.
import { EtcdError } from "../../errors/mod.ts";
import { formatGoDuration } from "../../config/mod.ts";
import { type ClusterApi, formatId, type Member, type V2Api } from "../../server/mod.ts";
import { MemberChangeError, type V2Deps, type V2Member } from "../v2/mod.ts";

const toV2 = (m: Member): V2Member => ({
  id: formatId(m.id),
  name: m.name,
  peerURLs: m.peerURLs,
  clientURLs: m.clientURLs,
});

/** Maps the server's membership errors onto the reasons the v2 members API reports. */
async function memberCall<T>(f: () => Promise<T>, id = ""): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof EtcdError) {
      if (err.message === "etcdserver: member ID already exist") {
        throw new MemberChangeError("idExists", id);
      }
      if (err.message === "etcdserver: Peer URLs already exists") {
        throw new MemberChangeError("peerURLExists", id);
      }
      if (err.message === "etcdserver: member not found") {
        throw new MemberChangeError("notFound", id);
      }
    }
    throw err;
  }
}

export function v2Deps(v2: V2Api, cluster: ClusterApi, clusterId: () => bigint): V2Deps {
  return {
    store: v2.store,
    authStore: v2.authStore,
    apply: (req) => v2.apply(req),
    now: () => v2.now(),
    clusterId: () => formatId(clusterId()),
    raft: () => v2.raftPosition(),
    members: () => v2.members().map(toV2),
    leader: () => {
      const m = v2.leader();
      return m && toV2(m);
    },
    addMember: async (peerURLs) => {
      const res = await memberCall(() => cluster.add(peerURLs, false));
      return toV2(v2.members().find((m) => m.id === res.member!.ID)!);
    },
    removeMember: async (id) => {
      if (v2.isRemoved(id)) throw new MemberChangeError("removed", formatId(id));
      await memberCall(() => cluster.remove(id), formatId(id));
    },
    updateMember: async (id, peerURLs) => {
      await memberCall(() => cluster.update(id, peerURLs), formatId(id));
    },
    selfStats: () => {
      const self = v2.self();
      return {
        name: self.name,
        id: formatId(self.id),
        state: self.state,
        startTime: self.startTime.toISOString(),
        leaderInfo: {
          leader: formatId(self.leader),
          uptime: formatGoDuration(Math.max(0, Date.now() - self.leaderSince.getTime())),
          startTime: self.leaderSince.toISOString(),
        },
        recvAppendRequestCnt: 0,
        sendAppendRequestCnt: 0,
      };
    },
    leaderStats: () => {
      if (!v2.isLeader()) return undefined;
      const followers: Record<string, unknown> = {};
      for (const m of v2.members()) {
        if (m.id === v2.memberId) continue;
        followers[formatId(m.id)] = {
          latency: { current: 0, average: 0, standardDeviation: 0, minimum: 0, maximum: 0 },
          counts: { fail: 0, success: 0 },
        };
      }
      return { leader: formatId(v2.memberId), followers };
    },
  };
}
