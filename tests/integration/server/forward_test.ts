// A follower's forwarding loop (etcd's LeaseRenew/LeaseTimeToLive/PromoteMember on a member
// that is not the leader): two in-process peers, the follower a stub member driving the real
// LeaseApi/ClusterApi and peer client, the leader a real peer listener with stub answers.
import assert from "node:assert/strict";
import {
  createLeaderClient,
  type PeerLeaderApi,
  type PeerListener,
  servePeer,
} from "../../../src/peer/mod.ts";
import { Errors, EtcdError } from "../../../src/errors/mod.ts";
import { LeaseError } from "../../../src/lease/mod.ts";
import { LeaseApi, type LeaseApiDeps } from "../../../src/server/lease.ts";
import { ClusterApi, type ClusterApiDeps } from "../../../src/server/cluster.ts";
import { LeaderForwarder } from "../../../src/server/forward.ts";
import type { Membership } from "../../../src/server/membership.ts";
import type { RaftStatus } from "../../../src/server/raft_status.ts";
import { testLog } from "../../helpers/log.ts";
import { idleReceiver } from "../../helpers/peer.ts";

const LEADER_HOST = "127.0.52.20";
const SELF = 0x1111n;
const LEADER = 0x2222n;
const LEARNER = 0x3333n;
const CID = 0xabcn;
const LEASE = 42n;

const { log: logger } = testLog("error");

interface Calls {
  renew: bigint[];
  timeToLive: bigint[];
  promote: bigint[];
}

/** The leader's peer listener; a test may replace any of its answers. */
async function startLeader(port = 0, api: Partial<PeerLeaderApi> = {}) {
  const calls: Calls = { renew: [], timeToLive: [], promote: [] };
  const full: PeerLeaderApi = {
    renewLease: (id) => {
      calls.renew.push(id);
      return id === LEASE ? Promise.resolve(30) : Promise.reject(new LeaseError("notFound"));
    },
    leaseTimeToLive: (id) => {
      calls.timeToLive.push(id);
      return id === LEASE
        ? Promise.resolve({ ID: id, TTL: 17, grantedTTL: 30, keys: [] })
        : Promise.reject(new LeaseError("notFound"));
    },
    promoteMember: (id) => {
      calls.promote.push(id);
      if (id !== LEARNER) return Promise.reject(Errors.memberNotFound());
      return Promise.resolve([
        {
          id: LEARNER,
          name: "",
          peerURLs: ["http://127.0.52.23:2380"],
          clientURLs: [],
          isLearner: false,
        },
      ]);
    },
    hashKV: () => ({ revision: 1, hash: 1, compactRevision: -1 }),
    ...api,
  };
  const listener: PeerListener = await servePeer(new URL(`http://${LEADER_HOST}:${port}`), {
    localId: LEADER,
    clusterId: () => CID,
    members: () => [],
    isRemoved: () => false,
    version: () => ({ etcdserver: "3.4.23", etcdcluster: "3.4.0" }),
    transport: idleReceiver(),
    leader: full,
    logger,
  });
  return { listener, calls, url: `http://${LEADER_HOST}:${listener.address.port}` };
}

/** A follower member: no primary lessor, the leader (when known) at `leaderURLs`. */
function follower(leaderURLs: string[], timeoutMs = 1500) {
  const f = { leader: LEADER as bigint, leaderURLs };
  const raft = {
    memberId: SELF,
    get leader() {
      return f.leader;
    },
    isLeader: false,
  } as unknown as RaftStatus;
  const membership = {
    get: (id: bigint) => (id === LEADER ? { id, peerURLs: f.leaderURLs } : undefined),
  } as unknown as Membership;
  const forwarder = new LeaderForwarder({
    raft,
    membership,
    requestTimeoutMs: timeoutMs,
    stopped: () => false,
    now: () => Date.now(),
  });
  forwarder.client = createLeaderClient();
  const header = () => ({ clusterId: CID, memberId: SELF, revision: 3, raftTerm: 2 });
  const lease = new LeaseApi({
    header,
    forwarder,
    lessor: { isPrimary: () => false },
    reads: { linearizableRead: () => Promise.resolve() },
  } as unknown as LeaseApiDeps);
  const cluster = new ClusterApi({ header, forwarder, raft, membership } as ClusterApiDeps);
  return { f, forwarder, lease, cluster };
}

Deno.test("keep-alive and time-to-live on a follower answer with the leader's lessor", async () => {
  const leader = await startLeader();
  try {
    const { lease } = follower([leader.url]);
    assert.deepEqual(await lease.renew(LEASE), {
      header: { clusterId: CID, memberId: SELF, revision: 3, raftTerm: 2 },
      ID: LEASE,
      TTL: 30,
    });
    // An unknown lease is not an error for keep-alives (TTL 0) and TTL -1 for time-to-live.
    assert.equal((await lease.renew(7n)).TTL, 0);
    const t = await lease.timeToLive(LEASE, false);
    assert.deepEqual([t.TTL, t.grantedTTL], [17, 30]);
    assert.equal((await lease.timeToLive(7n, false)).TTL, -1);
    assert.deepEqual(leader.calls.renew, [LEASE, 7n], "final answers are not retried");
  } finally {
    await leader.listener.close();
  }
});

Deno.test("a leader URL that does not answer is skipped for the next one", async () => {
  const leader = await startLeader();
  try {
    const { lease } = follower([`http://${LEADER_HOST}:1`, leader.url]);
    assert.equal((await lease.renew(LEASE)).TTL, 30);
  } finally {
    await leader.listener.close();
  }
});

Deno.test("without a leader the follower waits for one, then gives up with `no leader`", async () => {
  const leader = await startLeader();
  try {
    const { f, lease } = follower([leader.url]);
    f.leader = 0n;
    setTimeout(() => (f.leader = LEADER), 300);
    const start = Date.now();
    assert.equal((await lease.renew(LEASE)).TTL, 30);
    assert.ok(Date.now() - start >= 250, "waited for the election");

    f.leader = 0n;
    await assert.rejects(lease.renew(LEASE), (err) => {
      assert.ok(err instanceof EtcdError);
      assert.equal(err.message, "etcdserver: no leader");
      return true;
    });
  } finally {
    await leader.listener.close();
  }
});

Deno.test("a leader that keeps refusing (no longer primary) ends in `request timed out`", async () => {
  let refusals = 0;
  const leader = await startLeader(0, {
    renewLease: () => {
      refusals++;
      return Promise.reject(new LeaseError("notPrimary"));
    },
  });
  try {
    const { lease } = follower([leader.url], 600);
    await assert.rejects(lease.renew(LEASE), /etcdserver: request timed out/);
    assert.ok(refusals > 3, `retried (${refusals} attempts)`);
  } finally {
    await leader.listener.close();
  }
});

Deno.test("promotion through a follower: the leader's member list, its refusals final", async () => {
  const leader = await startLeader();
  try {
    const { cluster } = follower([leader.url]);
    const res = await cluster.promote(LEARNER);
    assert.deepEqual(res.members.map((m) => [m.ID, m.isLearner]), [[LEARNER, false]]);
    await assert.rejects(cluster.promote(9n), /etcdserver: member not found/);
    assert.deepEqual(leader.calls.promote, [LEARNER, 9n]);
  } finally {
    await leader.listener.close();
  }
});

Deno.test("a member without a way to the leader refuses as before (`not leader`)", async () => {
  const { forwarder, lease } = follower([]);
  forwarder.client = undefined;
  await assert.rejects(lease.renew(LEASE), /etcdserver: not leader/);
});
