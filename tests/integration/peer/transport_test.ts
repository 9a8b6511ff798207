// Transports talking to each other on 127.0.50.x: ordered delivery, batching, bounded queues,
// drops while a peer is down, reconnection, snapshot uploads, and the sender's handling of
// refusals (cluster ID mismatch, removed member, wrong member behind a URL).
import assert from "node:assert/strict";
import net from "node:net";
import { type Message, MessageType } from "../../../src/raft/mod.ts";
import { MAX_QUEUED_MESSAGES } from "../../../src/peer/mod.ts";
import {
  type Cluster,
  message,
  patternBytes,
  startMember,
  type TestMember,
} from "../../helpers/peer.ts";
import { sleep, until } from "../../helpers/wait.ts";
import { itest } from "../../helpers/process.ts";

function newCluster(): Cluster {
  return { clusterId: 0x47dbe5fe7d36e439n, urls: new Map(), removed: new Set() };
}

async function pair(cluster = newCluster(), hostA = "127.0.50.21", hostB = "127.0.50.22") {
  const a = await startMember(cluster, 1n, hostA);
  const b = await startMember(cluster, 2n, hostB);
  return { cluster, a, b, close: () => Promise.all([a.close(), b.close()]) };
}

const active = (m: TestMember, peer: bigint) => () => m.transport.activeSince(peer) > 0;

itest("messages arrive in order, both directions, and the stream reports active", async () => {
  const { a, b, close } = await pair();
  try {
    const before = Date.now();
    a.transport.addPeer(2n);
    b.transport.addPeer(1n);
    await until(active(a, 2n));
    await until(active(b, 1n));
    assert.ok(a.transport.activeSince(2n) >= before);
    const entry = { term: 1, index: 1, type: 0, data: new Uint8Array(200).fill(7) };
    const sent: Message[] = [];
    for (let round = 0; round < 20; round++) {
      const batch = Array.from(
        { length: 150 },
        (_, i) => message(1n, 2n, round * 150 + i, { entries: i % 2 ? [entry] : [] }),
      );
      sent.push(...batch);
      a.transport.send(batch);
      await sleep(1);
    }
    b.transport.send([message(2n, 1n, 99, { type: MessageType.MsgAppResp })]);
    await until(() => b.received.length === sent.length && a.received.length === 1);
    assert.deepEqual(b.received, sent);
    assert.equal(a.received[0].index, 99);
    assert.deepEqual(a.unreachable, []);
    assert.ok(a.lines.some((l) => l.endsWith("I | rafthttp: peer 2 became active")));
    assert.ok(
      a.lines.some((l) =>
        l.endsWith(
          "rafthttp: established a TCP streaming connection with peer 2 (stream Message writer)",
        )
      ),
    );
  } finally {
    await close();
  }
});

// A stand-in peer that accepts the stream and records the raw request bytes.
async function recordingPeer(host: string, opts: { read: boolean }) {
  const chunks: Uint8Array[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    let answered = false;
    s.on("data", (d: Uint8Array) => {
      chunks.push(d);
      if (!answered) {
        answered = true;
        s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        if (!opts.read) s.pause();
      }
    });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    text: () => new TextDecoder("latin1").decode(new Uint8Array(chunks.flatMap((c) => [...c]))),
    close: () => {
      sockets.forEach((s) => s.destroy());
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

itest("one send() of many messages leaves as one chunk, with etcd's headers", async () => {
  const cluster = newCluster();
  const peer = await recordingPeer("127.0.50.23", { read: true });
  cluster.urls.set(2n, peer.url);
  const a = await startMember(cluster, 1n, "127.0.50.21", {
    transport: { localPeerURLs: ["http://127.0.50.21:2380", "http://127.0.50.21:2381"] },
  });
  try {
    a.transport.addPeer(2n);
    await until(active(a, 2n));
    a.transport.send(Array.from({ length: 100 }, (_, i) => message(1n, 2n, i)));
    await until(() => (peer.text().split("\r\n\r\n")[1] ?? "").length > 0);
    await sleep(50);
    const [head, body] = peer.text().split("\r\n\r\n");
    const lines = head.split("\r\n");
    assert.equal(lines[0], "POST /raft HTTP/1.1");
    for (
      const h of [
        "X-Server-From: 1",
        "X-Server-Version: 3.4.23",
        "X-Min-Cluster-Version: 3.0.0",
        "X-Etcd-Cluster-ID: 47dbe5fe7d36e439",
        "X-PeerURLs: http://127.0.50.21:2380,http://127.0.50.21:2381",
        "X-Raft-To: 2",
        "Transfer-Encoding: chunked",
      ]
    ) assert.ok(lines.includes(h), `${h} in ${lines}`);
    // One chunk: its size line, the frames, and nothing after.
    const eol = body.indexOf("\r\n");
    const size = parseInt(body.slice(0, eol), 16);
    assert.equal(body.length, eol + 2 + size + 2);
  } finally {
    a.transport.close();
    await a.listener.close();
    await peer.close();
  }
});

itest("a full queue drops messages and reports the peer unreachable", async () => {
  const cluster = newCluster();
  const peer = await recordingPeer("127.0.50.24", { read: false });
  cluster.urls.set(2n, peer.url);
  const a = await startMember(cluster, 1n, "127.0.50.21");
  try {
    a.transport.addPeer(2n);
    await until(active(a, 2n));
    const entry = { term: 1, index: 1, type: 0, data: new Uint8Array(16 * 1024) };
    const total = MAX_QUEUED_MESSAGES + 1000;
    a.transport.send(
      Array.from({ length: total }, (_, i) => message(1n, 2n, i, { entries: [entry] })),
    );
    await until(() => a.unreachable.length > 0);
    assert.deepEqual([...new Set(a.unreachable)], [2n]);
    assert.ok(a.unreachable.length <= 2, "one report per burst");
    const warned = a.lines.filter((l) =>
      l.includes(
        "W | rafthttp: dropped internal raft message to 2 since sending buffer is full (bad/overloaded network)",
      )
    );
    assert.equal(warned.length, 1);
  } finally {
    a.transport.close();
    await a.listener.close();
    await peer.close();
  }
});

itest("a peer that is down: drops, inactive, then reconnects when it is back", async () => {
  const { a, b, close } = await pair();
  try {
    a.transport.addPeer(2n);
    await until(active(a, 2n));
    await b.stopListener();
    await until(() => a.transport.activeSince(2n) === 0);
    assert.ok(
      a.lines.some((l) =>
        l.endsWith(
          "W | rafthttp: lost the TCP streaming connection with peer 2 (stream Message writer)",
        )
      ),
    );
    assert.ok(
      a.lines.some((l) =>
        l.endsWith("E | rafthttp: peer 2 became inactive (message send to peer failed)")
      ),
    );
    // While it is down, messages are dropped, not queued for later.
    for (let i = 0; i < 50; i++) {
      a.transport.send([message(1n, 2n, 1000 + i)]);
      await sleep(4);
    }
    await until(() => a.unreachable.length > 0);
    assert.ok(
      a.lines.some((l) =>
        /W \| rafthttp: failed to dial 2 on stream Message \(dial tcp 127\.0\.50\.22:\d+: connect: connection refused\)/
          .test(l)
      ),
    );
    assert.equal(
      a.lines.filter((l) => l.includes("failed to dial 2")).length,
      1,
      "logged once while down",
    );
    await b.restartListener();
    await until(active(a, 2n), 3000, "reconnect");
    a.transport.send([message(1n, 2n, 7)]);
    await until(() => b.received.length > 0);
    assert.deepEqual(b.received.map((m) => m.index), [7], "nothing sent while down arrives late");
  } finally {
    await close();
  }
});

itest(
  "a snapshot of a few MB is uploaded and reported; a failed upload is reported too",
  async () => {
    const db = patternBytes(5 * 1024 * 1024, 3);
    const cluster = newCluster();
    // The source's snapshot, newer than Raft's stored one and listing a member added since,
    // is what goes out (etcd's merged snapshot).
    const merged = {
      metadata: { index: 5000, term: 3, confState: { voters: [1n, 2n], learners: [3n] } },
      data: db,
    };
    const a = await startMember(cluster, 1n, "127.0.50.21", {
      transport: { snapshotSource: () => Promise.resolve(merged) },
    });
    const b = await startMember(cluster, 2n, "127.0.50.22");
    try {
      const snap = message(1n, 2n, 0, {
        type: MessageType.MsgSnap,
        term: 3,
        snapshot: {
          metadata: { index: 4000, term: 2, confState: { voters: [1n, 2n], learners: [] } },
          data: new TextEncoder().encode("membership"),
        },
      });
      a.transport.send([snap]);
      await until(() => a.snapshotReports.length === 1, 10_000);
      assert.deepEqual(a.snapshotReports, [[2n, true]]);
      assert.equal(b.snapshots.length, 1);
      assert.deepEqual(b.snapshots[0].snapshot!.metadata, merged.metadata);
      assert.ok(b.snapshots[0].snapshot!.data.length === db.length);
      assert.deepEqual(b.snapshots[0].snapshot!.data, db);
      assert.equal(b.received.length, 0, "MsgSnap does not go through the message stream");
      assert.ok(
        a.lines.some((l) =>
          l.endsWith("I | rafthttp: start to send database snapshot [index: 5000, to 2]...")
        ),
      );
      assert.ok(
        a.lines.some((l) =>
          l.endsWith("I | rafthttp: database snapshot [index: 5000, to: 2] sent out successfully")
        ),
      );

      await b.stopListener();
      a.transport.send([snap]);
      await until(() => a.snapshotReports.length === 2, 10_000);
      assert.deepEqual(a.snapshotReports[1], [2n, false]);
      assert.ok(a.unreachable.includes(2n));
      assert.ok(
        a.lines.some((l) =>
          /W \| rafthttp: database snapshot \[index: 5000, to: 2\] failed to be sent out \(Post "http:\/\/127\.0\.50\.22:\d+\/raft\/snapshot": dial tcp 127\.0\.50\.22:\d+: connect: connection refused\)/
            .test(l)
        ),
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  },
);

itest("a peer of another cluster: the sender logs and reports, the receiver logs", async () => {
  const cluster = newCluster();
  const a = await startMember(cluster, 1n, "127.0.50.21", { clusterId: 0x7315950baf04d87fn });
  const b = await startMember(cluster, 2n, "127.0.50.22");
  try {
    a.transport.send([message(1n, 2n, 1, { type: MessageType.MsgVote })]);
    await until(() => a.mismatches.length > 0);
    assert.deepEqual(a.mismatches[0], [2n, 0x47dbe5fe7d36e439n]);
    assert.ok(
      a.lines.some((l) =>
        l.endsWith(
          "E | rafthttp: request sent was ignored (cluster ID mismatch: peer[2]=47dbe5fe7d36e439, local=7315950baf04d87f)",
        )
      ),
    );
    assert.ok(
      b.lines.some((l) =>
        l.endsWith(
          "E | rafthttp: request cluster ID mismatch (got 7315950baf04d87f want 47dbe5fe7d36e439)",
        )
      ),
    );
    assert.equal(a.transport.activeSince(2n), 0);
    assert.equal(b.received.length, 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

itest("a removed member learns it from a 410 and is told once", async () => {
  const cluster = newCluster();
  const a = await startMember(cluster, 1n, "127.0.50.21");
  const b = await startMember(cluster, 2n, "127.0.50.22");
  const c = await startMember(cluster, 3n, "127.0.50.23");
  cluster.removed.add(1n);
  try {
    a.transport.addPeer(2n);
    a.transport.addPeer(3n);
    await until(() => a.removedCalls > 0);
    await sleep(100);
    assert.equal(a.removedCalls, 1);
    assert.equal(b.received.length + c.received.length, 0);
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

itest("a URL now serving another member is refused (to field mismatch)", async () => {
  const { cluster, a, b, close } = await pair();
  try {
    cluster.urls.set(3n, b.url);
    a.transport.send([message(1n, 3n, 1)]); // added on first use, from the membership's URLs
    await until(() => a.lines.some((l) => l.includes("failed to dial 3")));
    assert.ok(
      a.lines.some((l) =>
        l.endsWith(
          "W | rafthttp: failed to dial 3 on stream Message (unexpected http status 412 (to field mismatch))",
        )
      ),
    );
    assert.equal(b.received.length, 0);
  } finally {
    await close();
  }
});

itest("a member answers a sender its membership does not list yet (joining)", async () => {
  const leaderView = newCluster();
  const joinerView = newCluster(); // empty membership: the log has not been replayed yet
  const leader = await startMember(leaderView, 1n, "127.0.50.21");
  const joiner: TestMember = await startMember(joinerView, 2n, "127.0.50.22", {
    transport: {
      onMessage: (m) => {
        joiner.received.push(m);
        joiner.transport.send([message(2n, m.from, m.index, { type: MessageType.MsgAppResp })]);
      },
    },
  });
  joinerView.urls.delete(2n);
  leaderView.urls.set(2n, joiner.url);
  try {
    leader.transport.send([message(1n, 2n, 11)]);
    await until(() => leader.received.length === 1);
    assert.equal(leader.received[0].type, MessageType.MsgAppResp);
    assert.equal(leader.received[0].index, 11);
    assert.ok(joiner.transport.activeSince(1n) > 0);
  } finally {
    await Promise.all([leader.close(), joiner.close()]);
  }
});

itest("updatePeer follows a member to its new URL; removePeer stops sending", async () => {
  const cluster = newCluster();
  const a = await startMember(cluster, 1n, "127.0.50.21");
  const b = await startMember(cluster, 2n, "127.0.50.22");
  const b2 = await startMember({ ...cluster, urls: new Map(cluster.urls) }, 2n, "127.0.50.25");
  try {
    a.transport.addPeer(2n);
    await until(active(a, 2n));
    a.transport.send([message(1n, 2n, 1)]);
    await until(() => b.received.length === 1);
    cluster.urls.set(2n, b2.url);
    a.transport.updatePeer(2n);
    for (let i = 0; i < 100 && b2.received.length === 0; i++) {
      a.transport.send([message(1n, 2n, 2)]);
      await sleep(20);
    }
    assert.ok(b2.received.length > 0);
    assert.equal(b.received.length, 1);
    a.transport.removePeer(2n);
    assert.equal(a.transport.activeSince(2n), 0);
    cluster.removed.add(2n);
    const n = b2.received.length;
    a.transport.send([message(1n, 2n, 3)]);
    await sleep(100);
    assert.equal(b2.received.length, n);
  } finally {
    await Promise.all([a.close(), b.close(), b2.close()]);
  }
});
