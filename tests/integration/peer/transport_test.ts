// Transports talking to each other on 127.0.50.x over etcd's protocol: streams dialled by each
// side's readers (msgappv2 for MsgApp, message for the rest), the pipeline while no stream is
// up, bounded queues, a peer that goes away and comes back, snapshot uploads, and the sender's
// handling of refusals (cluster ID mismatch, removed member, wrong member behind a URL).
import assert from "node:assert/strict";
import net from "node:net";
import { type Entry, type Message, MessageType } from "../../../src/raft/mod.ts";
import { MAX_QUEUED_MESSAGES } from "../../../src/peer/mod.ts";
import {
  type Cluster,
  mergedSnapshot,
  message,
  patternBytes,
  snapMessage,
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
  a.transport.addPeer(2n);
  b.transport.addPeer(1n);
  return { cluster, a, b, close: () => Promise.all([a.close(), b.close()]) };
}

const logged = (m: TestMember, text: string) => () => m.lines.some((l) => l.endsWith(text));

/** Both streams of `m` to `peer` are up, each way. */
async function streamsUp(m: TestMember, peer: bigint) {
  for (const type of ["stream MsgApp v2", "stream Message"]) {
    for (const side of ["reader", "writer"]) {
      const text = `established a TCP streaming connection with peer ${peer} (${type} ${side})`;
      await until(logged(m, text), 5000, text);
    }
  }
}

/** MsgApps as a leader sends them: each continues the last (msgappv2's short form). */
function appends(from: bigint, to: bigint, term: number, first: number, n: number): Message[] {
  const out: Message[] = [];
  let index = first - 1;
  for (let i = 0; i < n; i++) {
    const entries: Entry[] = Array.from({ length: i % 4 }, (_, k) => ({
      term,
      index: index + 1 + k,
      type: 0,
      data: new Uint8Array(100 + k).fill(i & 0xff),
    }));
    out.push(message(from, to, index, { term, logTerm: term, entries, commit: index }));
    index += entries.length;
  }
  return out;
}

const ofType = (msgs: Message[], app: boolean) =>
  msgs.filter((m) => (m.type === MessageType.MsgApp) === app);

itest("streams connect both ways; MsgApps and the rest arrive in order", async () => {
  const { a, b, close } = await pair();
  try {
    const before = Date.now();
    await streamsUp(a, 2n);
    await streamsUp(b, 1n);
    assert.ok(a.transport.activeSince(2n) >= before);
    assert.ok(a.lines.some((l) => l.endsWith("I | rafthttp: peer 2 became active")));
    // Two terms: the second's first MsgApp goes whole, the ones after it in short form.
    const apps = [...appends(1n, 2n, 2, 1, 600), ...appends(1n, 2n, 3, 2000, 600)];
    const others = Array.from(
      { length: 600 },
      (_, i) => message(1n, 2n, i, { type: MessageType.MsgHeartbeat, commit: i }),
    );
    for (let i = 0; i < apps.length; i += 100) {
      a.transport.send([...apps.slice(i, i + 100), ...others.slice(i / 2, i / 2 + 50)]);
      await sleep(1);
    }
    b.transport.send([message(2n, 1n, 99, { type: MessageType.MsgAppResp })]);
    await until(() => b.received.length === apps.length + others.length && a.received.length === 1);
    assert.deepEqual(ofType(b.received, true), apps);
    assert.deepEqual(ofType(b.received, false), others);
    assert.equal(a.received[0].index, 99);
    assert.deepEqual(a.unreachable, []);
  } finally {
    await close();
  }
});

itest("without streams the pipeline carries each message; the peer becomes active", async () => {
  const cluster = newCluster();
  const a = await startMember(cluster, 1n, "127.0.50.21");
  const b = await startMember(cluster, 2n, "127.0.50.22"); // b never adds a: no stream to a
  try {
    a.transport.addPeer(2n);
    const sent = Array.from({ length: 20 }, (_, i) => message(1n, 2n, i));
    a.transport.send(sent);
    await until(() => b.received.length === sent.length);
    // Four posts at a time: the order between them is not kept.
    assert.deepEqual(
      b.received.map((m) => m.index).sort((x, y) => x - y),
      sent.map((m) => m.index),
    );
    assert.ok(a.lines.some((l) => l.endsWith("I | rafthttp: peer 2 became active")));
    // b has no peer 1: a's readers are refused.
    await until(() =>
      b.lines.some((l) =>
        l.endsWith("E | rafthttp: failed to find member 1 in cluster 47dbe5fe7d36e439")
      )
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/** A peer reader that takes the stream's answer, then stops reading. */
async function stalledReader(target: TestMember, from: bigint, cluster: Cluster) {
  const url = new URL(target.url);
  const socket = net.connect(Number(url.port), url.hostname);
  await new Promise((r) => socket.once("connect", r));
  socket.write(
    `GET /raft/stream/message/${from.toString(16)} HTTP/1.1\r\nHost: ${url.host}\r\n` +
      `X-Server-From: ${from.toString(16)}\r\nX-Server-Version: 3.4.23\r\n` +
      `X-Min-Cluster-Version: 3.0.0\r\nX-Etcd-Cluster-ID: ${cluster.clusterId.toString(16)}\r\n` +
      `X-Raft-To: ${target.id.toString(16)}\r\n\r\n`,
  );
  await new Promise((r) => socket.once("data", r));
  socket.pause();
  return socket;
}

itest("a full queue drops messages and reports the peer unreachable", async () => {
  const cluster = newCluster();
  cluster.urls.set(2n, "http://127.0.50.24:9"); // nothing there: only the stalled reader
  const a = await startMember(cluster, 1n, "127.0.50.21");
  a.transport.addPeer(2n);
  const socket = await stalledReader(a, 2n, cluster);
  try {
    await until(
      logged(a, "established a TCP streaming connection with peer 2 (stream Message writer)"),
    );
    const entry = { term: 1, index: 1, type: 0, data: new Uint8Array(16 * 1024) };
    const total = MAX_QUEUED_MESSAGES + 1000;
    a.transport.send(
      Array.from({ length: total }, (_, i) => message(1n, 2n, i, { entries: [entry] })),
    );
    await until(() => a.unreachable.length > 0);
    assert.deepEqual([...new Set(a.unreachable)], [2n]);
    const warned = a.lines.filter((l) =>
      l.endsWith(
        "W | rafthttp: dropped internal raft message to 2 since streamMsg's sending buffer is full (bad/overloaded network)",
      )
    );
    assert.equal(warned.length, 1);
  } finally {
    socket.destroy();
    await a.close();
  }
});

itest("a peer that goes away: lost, inactive, pipeline fails, then back", async () => {
  const cluster = newCluster();
  const { a, b } = await pair(cluster);
  let b2: TestMember | undefined;
  try {
    await streamsUp(a, 2n);
    await b.close();
    await until(() => a.transport.activeSince(2n) === 0);
    for (
      const text of [
        "W | rafthttp: lost the TCP streaming connection with peer 2 (stream MsgApp v2 reader)",
        "W | rafthttp: lost the TCP streaming connection with peer 2 (stream Message writer)",
        "I | rafthttp: peer 2 became inactive (message send to peer failed)",
      ]
    ) assert.ok(a.lines.some((l) => l.endsWith(text)), text);
    assert.ok(
      a.lines.some((l) => /E \| rafthttp: failed to (read|write|dial) 2 on stream/.test(l)),
    );
    // While it is gone, messages fail and Raft hears of it; nothing waits to be sent later.
    a.transport.send([message(1n, 2n, 1000)]);
    await until(() => a.unreachable.length > 0);
    // The prober's report (every 5 s while the peer does not answer) says so too.
    const health =
      /W \| rafthttp: health check for peer 2 could not connect: dial tcp 127\.0\.50\.22:\d+: connect: connection refused$/;
    await until(() => a.lines.some((l) => health.test(l)), 12_000, "the prober's warning");
    const port = Number(new URL(b.url).port);
    b2 = await startMember(cluster, 2n, "127.0.50.22", { port });
    b2.transport.addPeer(1n);
    await until(() => a.transport.activeSince(2n) > 0, 5000, "active again");
    await streamsUp(b2, 1n);
    a.transport.send([message(1n, 2n, 7)]);
    await until(() => b2!.received.length > 0);
    assert.deepEqual(b2.received.map((m) => m.index), [7], "nothing sent while away arrives");
  } finally {
    await a.close();
    await b2?.close();
  }
});

itest("a snapshot goes as the message, then the database; a failed one is reported", async () => {
  const db = patternBytes(5 * 1024 * 1024, 3);
  const cluster = newCluster();
  // The source's snapshot, newer than Raft's stored one and listing a member added since,
  // is what goes out (etcd's merged snapshot).
  const payload = new TextEncoder().encode('{"v2":"store"}');
  const metadata = { index: 5000, term: 3, confState: { voters: [1n, 2n], learners: [3n] } };
  let merged = mergedSnapshot({ metadata, data: payload }, db);
  const a = await startMember(cluster, 1n, "127.0.50.21", {
    transport: {
      snapshotSource: () => Promise.resolve(merged = mergedSnapshot(merged.snapshot, db)),
    },
  });
  const b = await startMember(cluster, 2n, "127.0.50.22");
  try {
    a.transport.addPeer(2n);
    a.transport.send([snapMessage(1n, 2n, 4000)]);
    await until(() => a.snapshotReports.length === 1, 10_000);
    assert.deepEqual(a.snapshotReports, [[2n, true]]);
    assert.deepEqual(b.dbs.get(5000), db);
    assert.equal(merged.closed, 1);
    const snaps = b.received.filter((m) => m.type === MessageType.MsgSnap);
    assert.equal(snaps.length, 1);
    assert.deepEqual(snaps[0].snapshot, { metadata, data: payload });
    for (
      const text of [
        "I | rafthttp: start to send database snapshot [index: 5000, to 2, size 5.2 MB]...",
        "I | rafthttp: database snapshot [index: 5000, to: 2] sent out successfully",
      ]
    ) assert.ok(a.lines.some((l) => l.endsWith(text)), text);
    assert.ok(
      b.lines.some((l) =>
        /I \| rafthttp: successfully received and saved database snapshot \[index: 5000, from: 1, raft message size: 14 B, db size: 5.2 MB, took: .+\]$/
          .test(l)
      ),
    );

    await b.close();
    a.transport.send([snapMessage(1n, 2n, 4000)]);
    await until(() => a.snapshotReports.length === 2, 10_000);
    assert.deepEqual(a.snapshotReports[1], [2n, false]);
    assert.ok(a.unreachable.includes(2n));
    assert.ok(
      a.lines.some((l) =>
        /W \| rafthttp: database snapshot \[index: (4000|5000), to: 2\] failed to be sent out \(Post "http:\/\/127\.0\.50\.22:\d+\/raft\/snapshot": dial tcp 127\.0\.50\.22:\d+: connect: connection refused\)/
          .test(l)
      ),
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

itest(
  "a peer of another cluster: both sides log, the member is told, nothing is stepped",
  async () => {
    const cluster = newCluster();
    const a = await startMember(cluster, 1n, "127.0.50.21", { clusterId: 0x7315950baf04d87fn });
    const b = await startMember(cluster, 2n, "127.0.50.22");
    try {
      a.transport.addPeer(2n);
      b.transport.addPeer(1n);
      a.transport.send([message(1n, 2n, 1, { type: MessageType.MsgVote })]);
      await until(() => a.mismatches.length > 0);
      assert.deepEqual(a.mismatches[0], [2n, 0x47dbe5fe7d36e439n]);
      // The stream readers say "peer", the pipeline "remote", as etcd's do.
      await until(logged(
        a,
        "E | rafthttp: request sent was ignored (cluster ID mismatch: peer[2]=47dbe5fe7d36e439, local=7315950baf04d87f)",
      ));
      await until(logged(
        a,
        "E | rafthttp: request sent was ignored (cluster ID mismatch: remote[2]=47dbe5fe7d36e439, local=7315950baf04d87f)",
      ));
      await until(logged(
        b,
        "E | rafthttp: request cluster ID mismatch (got 7315950baf04d87f want 47dbe5fe7d36e439)",
      ));
      assert.equal(a.transport.activeSince(2n), 0);
      assert.equal(b.received.length, 0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  },
);

itest("a removed member learns it from a 410 or a 403 and is told once", async () => {
  const cluster = newCluster();
  const a = await startMember(cluster, 1n, "127.0.50.21");
  const b = await startMember(cluster, 2n, "127.0.50.22");
  const c = await startMember(cluster, 3n, "127.0.50.23");
  cluster.removed.add(1n);
  try {
    a.transport.addPeer(2n);
    a.transport.addPeer(3n);
    a.transport.send([message(1n, 2n, 1), message(1n, 3n, 1)]); // by the pipeline: 403
    await until(() => a.removedCalls > 0);
    await until(logged(b, "W | rafthttp: rejected the stream from peer 1 since it was removed"));
    await sleep(100);
    assert.equal(a.removedCalls, 1);
    assert.equal(b.received.length + c.received.length, 0);
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

itest("a URL now serving another member: its streams are refused (to field mismatch)", async () => {
  const { cluster, a, b, close } = await pair();
  try {
    cluster.urls.set(3n, b.url);
    a.transport.addPeer(3n);
    await until(logged(b, "E | rafthttp: streaming request ignored (ID mismatch got 3 want 2)"));
    assert.equal(a.transport.activeSince(3n), 0);
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
    leader.transport.addPeer(2n);
    leader.transport.send([message(1n, 2n, 11)]);
    await until(() => leader.received.length === 1);
    assert.equal(leader.received[0].type, MessageType.MsgAppResp);
    assert.equal(leader.received[0].index, 11);
  } finally {
    await Promise.all([leader.close(), joiner.close()]);
  }
});

itest("updatePeer follows a member to its new URL; removePeer stops sending", async () => {
  const cluster = newCluster();
  const { a, b } = await pair(cluster);
  const b2 = await startMember({ ...cluster, urls: new Map(cluster.urls) }, 2n, "127.0.50.25");
  try {
    await streamsUp(a, 2n);
    a.transport.send([message(1n, 2n, 1)]);
    await until(() => b.received.length === 1);
    await b.close();
    b2.transport.addPeer(1n);
    cluster.urls.set(2n, b2.url);
    a.transport.updatePeer(2n);
    for (let i = 0; i < 100 && b2.received.length === 0; i++) {
      a.transport.send([message(1n, 2n, 2)]);
      await sleep(20);
    }
    assert.ok(b2.received.length > 0);
    a.transport.removePeer(2n);
    assert.equal(a.transport.activeSince(2n), 0);
    cluster.removed.add(2n);
    a.transport.send([message(1n, 2n, 3)]);
    await sleep(100);
    assert.ok(!b2.received.some((m) => m.index === 3));
    assert.ok(a.lines.some((l) => l.endsWith("I | rafthttp: stopped peer 2")));
  } finally {
    await Promise.all([a.close(), b2.close()]);
  }
});
