// The guide's static three-member cluster, with etcd-ts in place of etcd, on loopback
// (127.0.16.x in place of 10.0.1.x). Address block 127.0.16.x.
import assert from "node:assert/strict";
import { Etcd3 } from "etcd3";
import {
  addLearner,
  type Cluster,
  type ClusterMember,
  localKeyCount,
  makeCluster,
  startJoining,
  writeBeyondCatchUp,
} from "../helpers/cluster.ts";
import { itest, startEtcdTs, stop } from "../helpers/process.ts";
import { tempDir } from "../helpers/tmp.ts";
import { assertPortsFree } from "../helpers/ports.ts";
import { etcdctl, memberList } from "../helpers/etcdctl.ts";

const BLOCK = "127.0.16";

// What etcd 3.4.23 reports for the same flags (member list -w json on a real etcd cluster).
const ETCD_IDS = {
  infra0: "6d2afdd1a80ea334",
  infra1: "58adac2270ebd819",
  infra2: "e5b6e9ddb35480aa",
};
const ETCD_CLUSTER_ID = 7183093577015187715n;

function memberIds(list: string): Record<string, string> {
  return Object.fromEntries(
    list.trim().split("\n").map((l) => {
      const [id, , name] = l.split(", ");
      return [name, id];
    }),
  );
}

itest(
  "the guide's static cluster: etcd's IDs, writes through one member read through all",
  async () => {
    const c = await makeCluster(BLOCK, 3);
    try {
      for (let i = 0; i < 3; i++) c.start(i);
      await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
      const list = await etcdctl(c.members[0].clientURL, "member", "list");
      assert.deepEqual(memberIds(list.stdout), ETCD_IDS);
      assert.equal((await memberList(c.members[1].clientURL)).clusterId, ETCD_CLUSTER_ID);

      assert.equal(
        (await etcdctl(c.members[0].clientURL, "put", "k", "from-infra0")).stdout,
        "OK\n",
      );
      for (const m of c.members) {
        assert.equal(
          (await etcdctl(m.clientURL, "get", "k", "--print-value-only")).stdout,
          "from-infra0\n",
        );
      }
      // The etcd3 client spreads requests over every endpoint.
      const client = new Etcd3({ hosts: c.members.map((m) => m.clientURL) });
      try {
        for (let i = 0; i < 20; i++) await client.put(`e${i}`).value(`v${i}`);
        assert.equal(await client.get("e7").string(), "v7");
        assert.equal((await client.getAll().prefix("e").keys()).length, 20);
      } finally {
        client.close();
      }
      for (const m of c.members) {
        assert.equal(
          (await etcdctl(m.clientURL, "get", "e19", "--print-value-only", "--consistency=s"))
            .stdout,
          "v19\n",
        );
      }
    } finally {
      await c.stopAll();
    }
  },
);

itest("kill -9 of the leader: a new leader is elected and writes resume", async () => {
  const c = await makeCluster(BLOCK, 3);
  try {
    for (let i = 0; i < 3; i++) c.start(i);
    await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
    const { member: old, term } = await c.leader();
    await etcdctl(c.endpoints, "put", "before", "1");
    old.proc!.kill("SIGKILL");
    await old.proc!.status;
    old.proc = undefined;
    const { member: next } = await c.leader(term);
    assert.notEqual(next.name, old.name);
    const survivors = c.members.filter((m) => m.proc);
    const eps = survivors.map((m) => m.clientURL).join(",");
    assert.equal((await etcdctl(eps, "put", "after", "2")).stdout, "OK\n");
    for (const m of survivors) {
      assert.equal(
        (await etcdctl(m.clientURL, "get", "before", "--print-value-only")).stdout,
        "1\n",
      );
      assert.equal(
        (await etcdctl(m.clientURL, "get", "after", "--print-value-only")).stdout,
        "2\n",
      );
    }
    // The killed member comes back with its data and catches up.
    const i = c.members.indexOf(old);
    c.start(i);
    await old.proc!.waitFor("ready to serve client requests");
    assert.equal(
      (await etcdctl(old.clientURL, "get", "after", "--print-value-only")).stdout,
      "2\n",
    );
  } finally {
    await c.stopAll();
  }
});

itest("the guide's cluster from ETCD_* variables", async () => {
  const c = await makeCluster(BLOCK, 3);
  try {
    for (let i = 0; i < 3; i++) {
      const m = c.members[i];
      const p = startEtcdTs([], {
        env: {
          ETCD_NAME: m.name,
          ETCD_DATA_DIR: m.dataDir,
          ETCD_INITIAL_ADVERTISE_PEER_URLS: m.peerURL,
          ETCD_LISTEN_PEER_URLS: m.peerURL,
          ETCD_LISTEN_CLIENT_URLS: m.clientURL,
          ETCD_ADVERTISE_CLIENT_URLS: m.clientURL,
          ETCD_INITIAL_CLUSTER_TOKEN: "etcd-cluster-1",
          ETCD_INITIAL_CLUSTER: c.initialCluster,
          ETCD_INITIAL_CLUSTER_STATE: "new",
        },
      });
      m.proc = p;
    }
    await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
    assert.ok(
      c.members[0].proc!.lines.some((l) =>
        l.includes("recognized and used environment variable ETCD_INITIAL_CLUSTER=")
      ),
    );
    const list = await etcdctl(c.members[2].clientURL, "member", "list");
    assert.deepEqual(memberIds(list.stdout), ETCD_IDS);
  } finally {
    await c.stopAll();
  }
});

/** infra3, not started: the member the membership tests add (stopped with the cluster). */
async function addNewcomer(c: Cluster): Promise<ClusterMember> {
  const ip = `${BLOCK}.13`;
  await assertPortsFree(ip, [2379, 2380]);
  const newcomer: ClusterMember = {
    name: "infra3",
    ip,
    clientURL: `http://${ip}:2379`,
    peerURL: `http://${ip}:2380`,
    dataDir: `${tempDir().path}/infra3`,
  };
  c.members.push(newcomer);
  return newcomer;
}

itest("member add/update/remove, learners and move-leader through etcdctl", async () => {
  const c = await makeCluster(BLOCK, 3);
  const eps = c.endpoints;
  const newcomer = await addNewcomer(c);
  try {
    for (let i = 0; i < 3; i++) c.start(i);
    await Promise.all(
      c.members.slice(0, 3).map((m) => m.proc!.waitFor("ready to serve client requests")),
    );

    // Add infra3 as a learner, start it with the printed variables, promote it.
    const { output, id, initialCluster } = await addLearner(eps, newcomer);
    assert.match(output, new RegExp(`ETCD_NAME="infra3"`));
    assert.match(output, /ETCD_INITIAL_CLUSTER_STATE="existing"/);
    const unstarted = await etcdctl(eps, "member", "list");
    assert.match(unstarted.stdout, new RegExp(`${id}, unstarted, , ${newcomer.peerURL}, , true`));

    await startJoining(newcomer, initialCluster).waitFor("ready to serve client requests");
    const promote = await etcdctl(eps, "member", "promote", id);
    assert.match(promote.stdout, new RegExp(`Member +${id} promoted in cluster`), promote.stderr);
    assert.equal((await etcdctl(newcomer.clientURL, "put", "via", "infra3")).stdout, "OK\n");
    assert.equal(
      (await etcdctl(c.members[0].clientURL, "get", "via", "--print-value-only")).stdout,
      "infra3\n",
    );

    // Leadership moves to infra3 on request.
    const { member: leader } = await c.leader();
    const move = await etcdctl(leader.clientURL, "move-leader", id);
    assert.match(
      move.stdout,
      new RegExp(`Leadership transferred from [0-9a-f]+ to ${id}`),
      move.stderr,
    );

    // Update a member's peer URLs (to the same address with an extra URL list form).
    const infra2 = memberIds((await etcdctl(eps, "member", "list")).stdout).infra2;
    const update = await etcdctl(
      eps,
      "member",
      "update",
      infra2,
      `--peer-urls=${c.members[2].peerURL}`,
    );
    assert.match(update.stdout, new RegExp(`Member +${infra2} updated in cluster`), update.stderr);

    // Removing infra2 stops it; the cluster goes on with three.
    const remove = await etcdctl(newcomer.clientURL, "member", "remove", infra2);
    assert.match(
      remove.stdout,
      new RegExp(`Member +${infra2} removed from cluster`),
      remove.stderr,
    );
    const status = await c.members[2].proc!.status;
    assert.equal(status.code, 0);
    c.members[2].proc = undefined;
    assert.ok(!(await etcdctl(newcomer.clientURL, "member", "list")).stdout.includes("infra2"));
    assert.equal((await etcdctl(newcomer.clientURL, "put", "after-remove", "ok")).stdout, "OK\n");
  } finally {
    await c.stopAll();
  }
});

itest("the guide's error cases exit 1 with the guide's messages", async () => {
  // A name not in the initial cluster: the guide's command verbatim (https typo included).
  const dir = tempDir().path;
  const notListed = startEtcdTs([
    "--name",
    "infra1",
    "--initial-advertise-peer-urls",
    `http://${BLOCK}.11:2380`,
    "--listen-peer-urls",
    `https://${BLOCK}.11:2380`,
    "--listen-client-urls",
    `http://${BLOCK}.11:2379,http://${BLOCK}.1:2379`,
    "--advertise-client-urls",
    `http://${BLOCK}.11:2379`,
    "--initial-cluster",
    `infra0=http://${BLOCK}.10:2380`,
    "--initial-cluster-state",
    "new",
    "--data-dir",
    `${dir}/a`,
  ]);
  assert.equal((await notListed.status).code, 1);
  assert.ok(
    notListed.lines.some((l) =>
      l.includes("etcd-ts: infra1 not listed in the initial cluster config")
    ),
    notListed.lines.join("\n"),
  );

  // Advertised peer URLs that differ from the initial cluster's.
  const different = startEtcdTs([
    "--name",
    "infra0",
    "--initial-advertise-peer-urls",
    `http://${BLOCK}.1:2380`,
    "--listen-peer-urls",
    `http://${BLOCK}.10:2380`,
    "--listen-client-urls",
    `http://${BLOCK}.10:2379,http://${BLOCK}.1:2379`,
    "--advertise-client-urls",
    `http://${BLOCK}.10:2379`,
    "--initial-cluster",
    `infra0=http://${BLOCK}.10:2380,infra1=http://${BLOCK}.11:2380,infra2=http://${BLOCK}.12:2380`,
    "--initial-cluster-state=new",
    "--data-dir",
    `${dir}/b`,
  ]);
  assert.equal((await different.status).code, 1);
  assert.ok(
    different.lines.some((l) =>
      l.includes(
        "error setting up initial cluster: infra0 has different advertised URLs in the cluster and advertised peer URLs list",
      )
    ),
    different.lines.join("\n"),
  );

  // A member configured for another cluster, joining a running one: conflicting cluster ID.
  const c = await makeCluster(BLOCK, 3);
  try {
    for (let i = 0; i < 3; i++) c.start(i);
    await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
    const ip3 = `${BLOCK}.13`;
    const infra3 = startEtcdTs([
      "--name",
      "infra3",
      "--initial-advertise-peer-urls",
      `http://${ip3}:2380`,
      "--listen-peer-urls",
      `http://${ip3}:2380`,
      "--listen-client-urls",
      `http://${ip3}:2379`,
      "--advertise-client-urls",
      `http://${ip3}:2379`,
      "--initial-cluster",
      `infra0=http://${BLOCK}.10:2380,infra1=http://${BLOCK}.11:2380,infra3=http://${ip3}:2380`,
      "--initial-cluster-state=new",
      "--data-dir",
      `${dir}/c`,
    ]);
    assert.equal((await infra3.status).code, 1);
    assert.ok(
      infra3.lines.some((l) =>
        /conflicting cluster ID to the target cluster \([0-9a-f]+ != 63af798cf6615903\)\. Exiting\./
          .test(l)
      ),
      infra3.lines.join("\n"),
    );
    // The healthy members never exit.
    assert.equal((await etcdctl(c.endpoints, "put", "still", "fine")).stdout, "OK\n");
  } finally {
    await c.stopAll();
  }
});

itest("a follower that missed a compacted log catches up from a snapshot", async () => {
  const c = await makeCluster(BLOCK, 3);
  try {
    for (let i = 0; i < 3; i++) c.start(i, ["--snapshot-count", "500"]);
    await Promise.all(c.members.map((m) => m.proc!.waitFor("ready to serve client requests")));
    const { member: leader } = await c.leader();
    const follower = c.members.find((m) => m !== leader)!;
    await stop(follower.proc!);
    follower.proc = undefined;
    await writeBeyondCatchUp(c.members.filter((m) => m.proc).map((m) => m.clientURL));
    const i = c.members.indexOf(follower);
    c.start(i, ["--snapshot-count", "500"]);
    await follower.proc!.waitFor("ready to serve client requests");
    await follower.proc!.waitFor("finished applying incoming snapshot");
    assert.equal(await localKeyCount(follower), 6000);
  } finally {
    await c.stopAll();
  }
});

itest("a member added after the last snapshot joins through a snapshot that lists it", async () => {
  const c = await makeCluster(BLOCK, 3);
  const newcomer = await addNewcomer(c);
  try {
    for (let i = 0; i < 3; i++) c.start(i, ["--snapshot-count", "500"]);
    const first = c.members.slice(0, 3);
    await Promise.all(first.map((m) => m.proc!.waitFor("ready to serve client requests")));
    await writeBeyondCatchUp(first.map((m) => m.clientURL));
    // The stored snapshot predates the new member, so the one it is sent must be taken anew.
    const add = await etcdctl(
      c.endpoints,
      "member",
      "add",
      "infra3",
      `--peer-urls=${newcomer.peerURL}`,
      "--learner",
    );
    assert.equal(add.code, 0, add.stderr);
    const initialCluster = add.stdout.match(/ETCD_INITIAL_CLUSTER="([^"]+)"/)![1];
    const proc = startJoining(newcomer, initialCluster);
    await proc.waitFor("finished applying incoming snapshot");
    await proc.waitFor("ready to serve client requests");
    assert.equal(await localKeyCount(newcomer), 6000);
  } finally {
    await c.stopAll();
  }
});
