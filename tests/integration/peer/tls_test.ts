// Peer traffic over https: message streams, snapshot uploads and /members look-ups with a CA,
// refusal of an unknown certificate, and auto-TLS style (encrypt, do not verify).
import assert from "node:assert/strict";
import { MessageType } from "../../../src/raft/mod.ts";
import { fetchClusterFromPeers } from "../../../src/peer/mod.ts";
import {
  type Cluster,
  mergedSnapshot,
  message,
  patternBytes,
  snapMessage,
  startMember,
} from "../../helpers/peer.ts";
import { testLog } from "../../helpers/log.ts";
import { selfSignedCert } from "../../helpers/certs.ts";
import { until } from "../../helpers/wait.ts";
import { itest } from "../../helpers/process.ts";

// Self-signed, valid for the test addresses (peers dial from 127.0.0.1 too).
const pem = await selfSignedCert("IP:127.0.50.31,IP:127.0.50.32,IP:127.0.0.1");
const newCluster = (): Cluster => ({ clusterId: 0xabcn, urls: new Map(), removed: new Set() });

itest("https peers: streams, a snapshot and /members with a trusted CA", async () => {
  const cluster = newCluster();
  const db = patternBytes(2 * 1024 * 1024, 2);
  const clientTLS = { ca: pem.cert, cert: pem.cert, key: pem.key };
  const metadata = { index: 9, term: 1, confState: { voters: [1n, 2n], learners: [] } };
  const a = await startMember(cluster, 1n, "127.0.50.31", {
    scheme: "https",
    listener: { tls: pem },
    transport: {
      tls: clientTLS,
      snapshotSource: () =>
        Promise.resolve(mergedSnapshot({ metadata, data: new Uint8Array([1]) }, db)),
    },
  });
  const b = await startMember(cluster, 2n, "127.0.50.32", {
    scheme: "https",
    listener: { tls: pem },
    transport: { tls: clientTLS },
  });
  try {
    assert.match(b.url, /^https:/);
    a.transport.addPeer(2n);
    b.transport.addPeer(1n);
    for (const m of [a, b]) {
      for (const type of ["stream MsgApp v2", "stream Message"]) {
        await m.log.waitFor(
          `established a TCP streaming connection with peer ${3n - m.id} (${type} reader)`,
        );
        await m.log.waitFor(
          `established a TCP streaming connection with peer ${3n - m.id} (${type} writer)`,
        );
      }
    }
    a.transport.send([message(1n, 2n, 1), message(1n, 2n, 2, { type: MessageType.MsgHeartbeat })]);
    await until(() => b.received.length === 2);
    assert.deepEqual(b.received.map((m) => m.index), [1, 2]);
    a.transport.send([snapMessage(1n, 2n, 5)]);
    await until(() => a.snapshotReports.length === 1, 10_000);
    assert.deepEqual(a.snapshotReports, [[2n, true]]);
    assert.deepEqual(b.dbs.get(9), db);
    assert.deepEqual(b.received[2].snapshot, { metadata, data: new Uint8Array([1]) });
    const remote = await fetchClusterFromPeers([b.url], 2000, { tls: clientTLS });
    assert.equal(remote.clusterId, 0xabcn);
    assert.deepEqual(remote.members.map((m) => m.id).sort(), [1n, 2n]);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

itest("https peers: an untrusted certificate is refused; skipping verification works", async () => {
  const cluster = newCluster();
  const b = await startMember(cluster, 2n, "127.0.50.32", {
    scheme: "https",
    listener: { tls: pem },
  });
  const strict = await startMember(cluster, 1n, "127.0.50.31", { zap: true });
  const { log: logger, lines } = testLog("debug");
  try {
    strict.transport.addPeer(2n);
    strict.transport.send([message(1n, 2n, 1)]);
    await until(() => strict.unreachable.length > 0);
    // Never active, the peer's failures are etcd's debug lines (zap only).
    const line = await strict.log.waitFor("failed to dial 2 on stream Message");
    assert.match(JSON.parse(line).error, /self[- ]signed/i);
    assert.equal(b.received.length, 0);
    await assert.rejects(fetchClusterFromPeers([b.url], 2000, { logger }));
    assert.match(
      lines[0],
      /could not get cluster response from https:\/\/127\.0\.50\.32:\d+: Get "https:/,
    );

    const lax = await startMember({ ...cluster, urls: new Map(cluster.urls) }, 3n, "127.0.50.31", {
      transport: { tls: { rejectUnauthorized: false } },
    });
    try {
      lax.transport.send([message(3n, 2n, 5)]);
      await until(() => b.received.length === 1);
      assert.equal(b.received[0].index, 5);
    } finally {
      await lax.close();
    }
  } finally {
    await Promise.all([b.close(), strict.close()]);
  }
});
