// Against a real etcd 3.4.23 on 127.0.51.1: our /members parser reads etcd's output exactly,
// our /members writer reproduces it byte for byte, the bootstrap look-ups work on it, and our
// peer listener refuses the same requests with the same statuses and bodies.
import assert from "node:assert/strict";
import {
  ERR_CLUSTER_EMPTY,
  ERR_CLUSTER_UNREACHABLE,
  fetchClusterFromPeers,
  fetchPeerVersion,
  formatMembersJSON,
  isMemberBootstrapped,
  parseMembersJSON,
  servePeer,
} from "../../../src/peer/mod.ts";
import { singleMemberFlags, spawn, stop } from "../../helpers/process.ts";
import { testLog } from "../../helpers/log.ts";
import { idleReceiver } from "../../helpers/peer.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { assertPortsFree } from "../../helpers/ports.ts";

const IP = "127.0.51.1";
const ETCD_PEER = `http://${IP}:2380`;
const DEAD = "http://127.0.51.2:2380";

Deno.test({
  name: "bootstrap look-ups and refusals against etcd 3.4.23",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const started = performance.now();
    await assertPortsFree(IP, [2379, 2380]);
    const dir = tempDir({ prefix: "peer-etcd-" }).path;
    const etcd = spawn("etcd", singleMemberFlags("p1", IP, `${dir}/data`));
    try {
      await etcd.waitFor("ready to serve client requests", 30_000);
      await etcd.waitFor(/published .* to cluster/, 10_000);
      const starting = await etcd.waitFor(/starting member [0-9a-f]+ in cluster [0-9a-f]+/);
      const [, idHex, cidHex] = /starting member ([0-9a-f]+) in cluster ([0-9a-f]+)/.exec(
        starting,
      )!;
      const memberId = BigInt("0x" + idHex);
      const clusterId = BigInt("0x" + cidHex);

      await t.step("etcd's /members parses exactly and is rewritten byte for byte", async () => {
        const res = await fetch(`${ETCD_PEER}/members`);
        const body = await res.text();
        assert.equal(res.headers.get("x-etcd-cluster-id"), cidHex);
        const members = parseMembersJSON(body);
        assert.deepEqual(members, [{
          id: memberId,
          name: "p1",
          peerURLs: [ETCD_PEER],
          clientURLs: [`http://${IP}:2379`],
          isLearner: false,
        }]);
        assert.equal(formatMembersJSON(members), body);
      });

      await t.step("fetchClusterFromPeers: first answer wins, failures logged", async () => {
        const { log: logger, lines } = testLog("debug");
        const got = await fetchClusterFromPeers([DEAD, ETCD_PEER], 2000, { logger });
        assert.equal(got.clusterId, clusterId);
        assert.equal(got.members.length, 1);
        assert.equal(got.members[0].id, memberId);
        assert.deepEqual(lines.map((l) => l.replace(/^\S+ \S+ /, "")), [
          `W | etcdserver: could not get cluster response from ${DEAD}: Get "${DEAD}/members": ` +
          `dial tcp 127.0.51.2:2380: connect: connection refused`,
        ]);
        await assert.rejects(fetchClusterFromPeers([DEAD], 500), {
          message: ERR_CLUSTER_UNREACHABLE,
        });
      });

      await t.step("isMemberBootstrapped and the peer's version", async () => {
        assert.equal(await isMemberBootstrapped([ETCD_PEER], memberId, 1000), true);
        assert.equal(await isMemberBootstrapped([ETCD_PEER], 0x1234n, 1000), false);
        assert.equal(await isMemberBootstrapped([DEAD], memberId, 1000), false);
        assert.deepEqual(await fetchPeerVersion(ETCD_PEER, 1000), {
          etcdserver: "3.4.23",
          etcdcluster: "3.4.0",
        });
        assert.equal(await fetchPeerVersion(DEAD, 500), undefined);
      });

      await t.step("our listener refuses what etcd refuses, with the same answers", async () => {
        const { log: logger } = testLog("debug");
        const ours = await servePeer(new URL(`http://${IP}:0`), {
          localId: memberId,
          clusterId: () => clusterId,
          members: () => [],
          isRemoved: () => false,
          version: () => ({ etcdserver: "3.4.23", etcdcluster: "3.4.0" }),
          transport: idleReceiver(),
          logger,
        });
        const good = {
          "X-Server-From": "1234",
          "X-Server-Version": "3.4.23",
          "X-Min-Cluster-Version": "3.0.0",
          "X-Etcd-Cluster-ID": cidHex,
        };
        const requests: [string, string, Record<string, string>?, Uint8Array?][] = [
          ["GET", "/raft"],
          ["POST", "/raft"],
          ["POST", "/raft", { ...good, "X-Etcd-Cluster-ID": "1" }],
          ["POST", "/raft", {
            ...good,
            "X-Server-Version": "3.6.0",
            "X-Min-Cluster-Version": "3.5.0",
          }],
          ["GET", "/raft/stream/message/1234"],
          ["PUT", "/raft/stream/message/1234"],
          ["GET", "/raft/stream/msgapp/1234", { ...good, "X-Etcd-Cluster-ID": "1" }],
          ["GET", "/raft/stream/message/1234", good],
          ["GET", "/raft/stream/bogus/1234", good],
          ["GET", "/raft/stream/message/xyz", good],
          ["GET", "/raft/snapshot"],
          ["POST", "/raft/snapshot"],
          ["POST", "/raft/snapshot", good],
          ["POST", "/raft/snapshot", good, new Uint8Array([1, 2, 3])],
          ["POST", "/raft/snapshot", good, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff])],
          ["POST", "/raft", good, new Uint8Array([0xff, 0xff, 0xff])],
          ["GET", "/raft/nope"],
          ["POST", "/members"],
          ["GET", "/nope"],
          ["POST", "/version"],
          ["GET", "/version"],
        ];
        try {
          for (const [method, path, headers, body] of requests) {
            const answer = async (base: string) => {
              const res = await fetch(base + path, { method, headers, body: body as BodyInit });
              return {
                status: res.status,
                body: await res.text(),
                allow: res.headers.get("allow"),
                cid: res.headers.get("x-etcd-cluster-id"),
                type: res.headers.get("content-type"),
              };
            };
            const want = await answer(ETCD_PEER);
            const got = await answer(`http://${IP}:${ours.address.port}`);
            assert.deepEqual(got, want, `${method} ${path} ${JSON.stringify(headers ?? {})}`);
          }
        } finally {
          await ours.close();
        }
      });

      await t.step("an empty member list ends the search", async () => {
        const { log: logger } = testLog("debug");
        const empty = await servePeer(new URL(`http://${IP}:0`), {
          localId: 1n,
          clusterId: () => 5n,
          members: () => [],
          isRemoved: () => false,
          version: () => ({ etcdserver: "3.4.23", etcdcluster: "" }),
          transport: idleReceiver(),
          logger,
        });
        try {
          await assert.rejects(
            fetchClusterFromPeers([`http://${IP}:${empty.address.port}`, ETCD_PEER], 1000),
            { message: ERR_CLUSTER_EMPTY },
          );
        } finally {
          await empty.close();
        }
      });
    } finally {
      await stop(etcd);
      Deno.removeSync(dir, { recursive: true });
      console.log(`  [etcd peer port] ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  },
});
