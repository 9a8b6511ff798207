// What only the leader can answer, asked of followers: lease keep-alives and time-to-live
// (etcdctl and the etcd3 npm client) and learner promotion reach the leader over the peer port,
// as etcd forwards them. Address block 127.0.18.x.
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import {
  addLearner,
  type Cluster,
  type ClusterMember,
  makeCluster,
  startJoining,
} from "../helpers/cluster.ts";
import { itest } from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl, spawnEtcdctl } from "../helpers/etcdctl.ts";
import { sleep } from "../helpers/wait.ts";

const BLOCK = "127.0.18";

/** Starts the guide's three members and returns the leader and the two followers. */
async function startThree(c: Cluster) {
  for (let i = 0; i < 3; i++) c.start(i);
  await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
  const { member: leader } = await c.leader();
  const followers = c.members.filter((m) => m !== leader);
  return { leader, followers };
}

function remaining(out: string): number {
  const m = /granted with TTL\((\d+)s\), remaining\((-?\d+)s\)/.exec(out);
  assert.ok(m, out);
  return Number(m[2]);
}

itest(
  "leases through followers: grant, keep-alive, time-to-live, expiry, etcd3 keep-alives",
  async () => {
    const c = await makeCluster(BLOCK, 3);
    try {
      const { leader, followers } = await startThree(c);
      const [f1, f2] = followers.map((m) => m.clientURL);

      // Granted on one follower, asked about on the other: the leader's countdown, not the
      // followers' "forever".
      const grant = await etcdctl(f1, "lease", "grant", "60");
      assert.equal(grant.code, 0, grant.stderr);
      const id = grant.stdout.match(/^lease ([0-9a-f]+) granted with TTL\(60s\)/)?.[1];
      assert.ok(id, grant.stdout);
      await sleep(2_100);
      const before = await etcdctl(f2, "lease", "timetolive", id);
      assert.equal(before.code, 0, before.stderr);
      assert.ok(remaining(before.stdout) >= 55 && remaining(before.stdout) <= 58, before.stdout);

      const kept = await etcdctl(f1, "lease", "keep-alive", "--once", id);
      assert.equal(kept.code, 0, kept.stderr);
      assert.equal(kept.stdout.trim(), `lease ${id} keepalived with TTL(60)`);
      const after = await etcdctl(f2, "lease", "timetolive", id);
      assert.ok(remaining(after.stdout) >= 59, after.stdout);
      const onLeader = await etcdctl(leader.clientURL, "lease", "timetolive", id);
      assert.ok(remaining(onLeader.stdout) >= 59, onLeader.stdout);

      // Unknown leases: etcd's answers, through a follower too.
      const unknownTTL = await etcdctl(f1, "lease", "timetolive", "1234");
      assert.equal(unknownTTL.stdout.trim(), "lease 0000000000001234 already expired");
      const unknownKeep = await etcdctl(f2, "lease", "keep-alive", "--once", "1234");
      assert.notEqual(unknownKeep.code, 0);
      assert.match(unknownKeep.stderr, /Error: etcdserver: requested lease not found/);

      // A key on a short lease lives while a follower relays keep-alives, and is gone from
      // every member once they stop.
      const short = (await etcdctl(f2, "lease", "grant", "3")).stdout.match(/^lease ([0-9a-f]+)/)
        ?.[1];
      assert.ok(short);
      const put = await etcdctl(f2, "put", "ephemeral", "v", `--lease=${short}`, "-w", "json");
      assert.equal(put.code, 0, put.stderr);
      // Each member's own watch from the put's revision: its DELETE line is that member applying
      // the expiry.
      const rev = JSON.parse(put.stdout).header.revision;
      const watches = c.members.map((m) =>
        spawnEtcdctl(m.clientURL, ["watch", "ephemeral", `--rev=${rev}`])
      );
      const keys = await etcdctl(f1, "lease", "timetolive", "--keys", short);
      assert.match(keys.stdout, /attached keys\(\[ephemeral\]\)/);
      for (let i = 0; i < 4; i++) {
        await sleep(1_200);
        const k = await etcdctl(f1, "lease", "keep-alive", "--once", short);
        assert.equal(k.stdout.trim(), `lease ${short} keepalived with TTL(3)`, k.stderr);
      }
      for (const m of c.members) {
        const got = await etcdctl(m.clientURL, "get", "ephemeral", "--consistency=s");
        assert.match(got.stdout, /ephemeral\nv/, `${m.name} lost the key while kept alive`);
      }
      try {
        for (const w of watches) await w.waitFor((l) => l === "DELETE", 15_000);
      } finally {
        for (const w of watches) w.kill();
        await Promise.all(watches.map((w) => w.status));
      }
      for (const m of c.members) {
        const got = await etcdctl(m.clientURL, "get", "ephemeral", "--consistency=s");
        assert.equal(got.stdout, "", `${m.name} still has the key of an expired lease`);
      }
      const expired = await etcdctl(f1, "lease", "timetolive", short);
      assert.equal(expired.stdout.trim(), `lease ${short} already expired`);

      // The etcd3 npm client keeps a lease alive through followers only.
      const client = new Etcd3({ hosts: [f1, f2] });
      try {
        const lease = client.lease(2);
        let lost = false;
        lease.on("lost", () => (lost = true));
        const leaseId = await lease.grant();
        await lease.put("kept").value("v");
        await sleep(6_000);
        assert.equal(lost, false, "the etcd3 client lost its lease");
        assert.equal(await client.get("kept").string(), "v");
        const ttl = await client.leaseClient.leaseTimeToLive({ ID: leaseId, keys: false });
        assert.ok(Number(ttl.TTL) >= 0 && Number(ttl.TTL) <= 2, `TTL ${ttl.TTL}`);
        await lease.revoke();
        assert.equal(await client.get("kept").string(), null);
      } finally {
        client.close();
      }
    } finally {
      await c.stopAll();
    }
  },
);

itest("member promote through a follower reaches the leader", async () => {
  const c = await makeCluster(BLOCK, 3);
  const ip = `${BLOCK}.13`;
  await assertPortsFree(ip, [2379, 2380]);
  const newcomer: ClusterMember = {
    name: "infra3",
    ip,
    clientURL: `http://${ip}:2379`,
    peerURL: `http://${ip}:2380`,
    dataDir: `${tempDir().path}/infra3`,
  };
  try {
    const { followers } = await startThree(c);
    const [f1, f2] = followers.map((m) => m.clientURL);
    c.members.push(newcomer);

    const { id, clusterId, initialCluster } = await addLearner(f1, newcomer);

    // Not started yet: the leader refuses a learner that has nothing of its log.
    const early = await etcdctl(f2, "member", "promote", id);
    assert.notEqual(early.code, 0);
    assert.match(
      early.stderr,
      /Error: etcdserver: can only promote a learner member which is in sync with leader/,
    );

    await startJoining(newcomer, initialCluster).waitFor("ready to serve client requests");

    const promote = await etcdctl(f2, "member", "promote", id);
    assert.equal(promote.code, 0, promote.stderr);
    // etcdctl pads IDs to 16 columns (%16x).
    assert.match(
      promote.stdout,
      new RegExp(`^Member +${id} promoted in cluster +${clusterId}\\n$`),
    );
    const list = await etcdctl(f1, "member", "list");
    assert.match(
      list.stdout,
      new RegExp(`${id}, started, infra3, ${newcomer.peerURL}, ${newcomer.clientURL}, false`),
    );

    const again = await etcdctl(f1, "member", "promote", id);
    assert.match(again.stderr, /Error: etcdserver: can only promote a learner member\n/);
    const unknown = await etcdctl(f2, "member", "promote", "1234");
    assert.match(unknown.stderr, /Error: etcdserver: member not found/);
  } finally {
    await c.stopAll();
  }
});
