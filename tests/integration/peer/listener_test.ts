// The peer listener's answers: every refusal's status, body and log line, the message and
// snapshot paths, /members, /version and /raft/probing. Requests are made with fetch, a client
// independent of the transport's own.
import assert from "node:assert/strict";
import { type Message, MessageType } from "../../../src/raft/mod.ts";
import { servePeer, type ServePeerOptions } from "../../../src/peer/mod.ts";
import { encodeMessageFrame } from "../../../src/peer/codec.ts";
import { encodeMessage } from "../../../src/raft/mod.ts";
import { message, patternBytes } from "../../helpers/peer.ts";
import { testLog } from "../../helpers/log.ts";
import { Http1Connection } from "../../support/http1.ts";

const HOST = "127.0.50.10";
const LOCAL = 0xa3323a824b0b624bn;
const CID = 0x47dbe5fe7d36e439n;
const KNOWN = 0x91ad85a1162022ben;
const REMOVED = 0x1111n;
const hex = (n: bigint) => n.toString(16);

function goodHeaders(from = KNOWN, extra: Record<string, string> = {}): Record<string, string> {
  return {
    "X-Server-From": hex(from),
    "X-Server-Version": "3.4.23",
    "X-Min-Cluster-Version": "3.0.0",
    "X-Etcd-Cluster-ID": hex(CID),
    "X-PeerURLs": "http://127.0.50.11:2380",
    ...extra,
  };
}

async function withListener(
  fn: (base: string, ctx: {
    lines: string[];
    received: Message[];
    dbs: Map<number, Uint8Array>;
    streams: bigint[];
    opts: ServePeerOptions;
  }) => Promise<void>,
  overrides: Partial<ServePeerOptions> = {},
) {
  const { log: logger, lines } = testLog("debug");
  const received: Message[] = [];
  const dbs = new Map<number, Uint8Array>();
  const streams: bigint[] = [];
  const opts: ServePeerOptions = {
    localId: LOCAL,
    clusterId: () => CID,
    members: () => [
      {
        id: LOCAL,
        name: "s1",
        peerURLs: [`http://${HOST}:2380`],
        clientURLs: ["http://127.0.50.10:2379"],
        isLearner: false,
      },
      {
        id: KNOWN,
        name: "",
        peerURLs: ["http://127.0.50.11:2380"],
        clientURLs: [],
        isLearner: true,
      },
    ],
    isRemoved: (id) => id === REMOVED,
    version: () => ({ etcdserver: "3.4.23", etcdcluster: "3.4.0" }),
    transport: {
      receive: (m) => received.push(m),
      saveSnapshotDb: async (index, db) => {
        const parts: Uint8Array[] = [];
        for await (const p of db) parts.push(p.slice());
        const bytes = new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer());
        dbs.set(index, bytes);
        return bytes.length;
      },
      isPeer: (id) => id === KNOWN,
      attachStream: (from) => void streams.push(from),
      addRemote: () => {},
    },
    logger,
    ...overrides,
  };
  const listener = await servePeer(new URL(`http://${HOST}:0`), opts);
  try {
    await fn(`http://${HOST}:${listener.address.port}`, { lines, received, dbs, streams, opts });
  } finally {
    await listener.close();
  }
}

interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  status: number;
  text: string;
  allow?: string;
  log?: string;
}

const snapMsg = message(KNOWN, LOCAL, 0, {
  type: MessageType.MsgSnap,
  snapshot: {
    metadata: { index: 7, term: 2, confState: { voters: [LOCAL], learners: [] } },
    data: new Uint8Array(0),
  },
});

const cases: Case[] = [
  {
    name: "raft: wrong method",
    method: "GET",
    path: "/raft",
    status: 405,
    text: "Method Not Allowed\n",
    allow: "POST",
  },
  {
    name: "raft: no version headers",
    method: "POST",
    path: "/raft",
    status: 412,
    text: "incompatible version\n",
    log:
      "E | rafthttp: request version incompatibility (remote version is too low: remote[]=2.0.0, local=3.4.23)",
  },
  {
    name: "raft: peer requires a newer cluster",
    method: "POST",
    path: "/raft",
    headers: goodHeaders(KNOWN, { "X-Server-Version": "3.6.0", "X-Min-Cluster-Version": "3.5.0" }),
    status: 412,
    text: "incompatible version\n",
    log: "local version is too low: remote[91ad85a1162022be]=3.6.0, local=3.4.23",
  },
  {
    name: "raft: cluster ID mismatch",
    method: "POST",
    path: "/raft",
    headers: goodHeaders(KNOWN, { "X-Etcd-Cluster-ID": "7315950baf04d87f" }),
    status: 412,
    text: "cluster ID mismatch\n",
    log: "E | rafthttp: request cluster ID mismatch (got 7315950baf04d87f want 47dbe5fe7d36e439)",
  },
  {
    name: "raft: a removed member's message",
    method: "POST",
    path: "/raft",
    headers: goodHeaders(REMOVED),
    body: encodeMessage(message(REMOVED, LOCAL, 1)),
    status: 403,
    text: '{"message":"cannot process message from removed member"}',
  },
  {
    name: "raft: not a raft message",
    method: "POST",
    path: "/raft",
    headers: goodHeaders(),
    body: new Uint8Array([0xff, 0xff, 0xff]),
    status: 400,
    text: "error unmarshalling raft message\n",
  },
  {
    name: "stream: bare GET (fingerprint)",
    method: "GET",
    path: "/raft/stream/message/1234",
    status: 412,
    text: "incompatible version\n",
  },
  {
    name: "stream: wrong method",
    method: "POST",
    path: "/raft/stream/message/1234",
    status: 405,
    text: "Method Not Allowed\n",
    allow: "GET",
  },
  {
    name: "stream: cluster ID mismatch",
    method: "GET",
    path: `/raft/stream/message/${hex(KNOWN)}`,
    headers: goodHeaders(KNOWN, { "X-Etcd-Cluster-ID": "1" }),
    status: 412,
    text: "cluster ID mismatch\n",
  },
  {
    name: "stream: invalid path",
    method: "GET",
    path: `/raft/stream/other/${hex(KNOWN)}`,
    headers: goodHeaders(),
    status: 404,
    text: "invalid path\n",
  },
  {
    name: "stream: invalid from",
    method: "GET",
    path: "/raft/stream/message/xyz",
    headers: goodHeaders(),
    status: 404,
    text: "invalid from\n",
  },
  {
    name: "stream: removed sender",
    method: "GET",
    path: `/raft/stream/msgapp/${hex(REMOVED)}`,
    headers: goodHeaders(REMOVED),
    status: 410,
    text: "removed member\n",
  },
  {
    name: "stream: unknown sender",
    method: "GET",
    path: "/raft/stream/message/5678",
    headers: goodHeaders(0x5678n),
    status: 404,
    text: "error sender not found\n",
  },
  {
    name: "stream: to field mismatch",
    method: "GET",
    path: `/raft/stream/message/${hex(KNOWN)}`,
    headers: goodHeaders(KNOWN, { "X-Raft-To": "1" }),
    status: 412,
    text: "to field mismatch\n",
  },
  {
    name: "snapshot: wrong method",
    method: "GET",
    path: "/raft/snapshot",
    status: 405,
    text: "Method Not Allowed\n",
    allow: "POST",
  },
  {
    name: "snapshot: no version headers",
    method: "POST",
    path: "/raft/snapshot",
    status: 412,
    text: "incompatible version\n",
  },
  {
    name: "snapshot: a removed member's (saved, not stepped)",
    method: "POST",
    path: "/raft/snapshot",
    headers: goodHeaders(REMOVED),
    body: encodeMessageFrame({ ...snapMsg, from: REMOVED }),
    status: 403,
    text: '{"message":"cannot process message from removed member"}',
  },
  {
    name: "snapshot: no body",
    method: "POST",
    path: "/raft/snapshot",
    headers: goodHeaders(),
    status: 400,
    text: "failed to decode raft message (EOF)\n",
  },
  {
    name: "snapshot: garbage body",
    method: "POST",
    path: "/raft/snapshot",
    headers: goodHeaders(),
    body: new Uint8Array([1, 2, 3]),
    status: 400,
    text: "failed to decode raft message (unexpected EOF)\n",
  },
  {
    name: "snapshot: not a MsgSnap",
    method: "POST",
    path: "/raft/snapshot",
    headers: goodHeaders(),
    body: encodeMessageFrame({ ...snapMsg, type: MessageType.MsgApp }),
    status: 400,
    text: "wrong raft message type\n",
  },
  {
    name: "unknown raft path",
    method: "GET",
    path: "/raft/nope",
    status: 404,
    text: "404 page not found\n",
  },
  {
    name: "unknown path",
    method: "GET",
    path: "/v3/kv/range",
    status: 404,
    text: "404 page not found\n",
  },
  {
    name: "members: wrong method",
    method: "POST",
    path: "/members",
    status: 405,
    text: "Method Not Allowed\n",
    allow: "GET",
  },
  {
    name: "members/x is not members",
    method: "GET",
    path: "/members/x",
    status: 404,
    text: "404 page not found\n",
  },
  {
    name: "version: wrong method",
    method: "PUT",
    path: "/version",
    status: 405,
    text: "Method Not Allowed\n",
    allow: "GET",
  },
];

Deno.test("peer listener refusals: status, body, headers and log lines", async () => {
  await withListener(async (base, { lines }) => {
    for (const c of cases) {
      const res = await fetch(base + c.path, {
        method: c.method,
        headers: c.headers,
        body: c.body as BodyInit | undefined,
      });
      const text = await res.text();
      assert.equal(res.status, c.status, c.name);
      assert.equal(text, c.text, c.name);
      if (c.status !== 404 || c.path.startsWith("/raft/stream")) {
        if (c.status !== 405) {
          assert.equal(res.headers.get("x-etcd-cluster-id"), hex(CID), c.name);
        }
      }
      if (c.status === 405 || c.status === 412 || c.status === 410 || c.status === 400) {
        assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8", c.name);
      }
      if (c.status === 403) assert.equal(res.headers.get("content-type"), "application/json");
      if (c.allow) assert.equal(res.headers.get("allow"), c.allow, c.name);
      if (c.path.startsWith("/raft/stream") && c.status !== 405) {
        assert.equal(res.headers.get("x-server-version"), "3.4.23", c.name);
      }
      if (c.log) assert.ok(lines.some((l) => l.includes(c.log!)), `${c.name}: ${lines.join("\n")}`);
    }
  });
});

Deno.test("repeated cluster ID mismatches are logged once per interval", async () => {
  await withListener(async (base, { lines }) => {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(base + "/raft", {
        method: "POST",
        headers: goodHeaders(KNOWN, { "X-Etcd-Cluster-ID": "7315950baf04d87f" }),
      });
      assert.equal(res.status, 412);
      await res.body?.cancel();
    }
    assert.equal(lines.filter((l) => l.includes("request cluster ID mismatch")).length, 1);
  });
});

Deno.test("POST /raft: one message, from an unknown sender too, answered 204", async () => {
  await withListener(async (base, { received }) => {
    const m = message(0x5678n, LOCAL, 42, {
      entries: [{ term: 1, index: 42, type: 0, data: patternBytes(100) }],
    });
    const res = await fetch(base + "/raft", {
      method: "POST",
      headers: goodHeaders(0x5678n, { "Content-Type": "application/protobuf" }),
      body: encodeMessage(m) as BodyInit,
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("x-etcd-cluster-id"), hex(CID));
    await res.body?.cancel();
    assert.deepEqual(received, [m]);
  });
});

Deno.test("GET /raft/stream from a peer is accepted, handed over, and stays open", async () => {
  await withListener(async (base, { streams }) => {
    const ac = new AbortController();
    const res = await fetch(base + `/raft/stream/msgapp/${hex(KNOWN)}`, {
      headers: goodHeaders(KNOWN, { "X-Raft-To": hex(LOCAL) }),
      signal: ac.signal,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-server-version"), "3.4.23");
    assert.deepEqual(streams, [KNOWN]);
    const reader = res.body!.getReader();
    const next = reader.read();
    const winner = await Promise.race([
      next.then(() => "data"),
      new Promise((r) => setTimeout(() => r("open"), 200)),
    ]);
    assert.equal(winner, "open");
    ac.abort();
    await next.catch(() => {});
  });
});

Deno.test("POST /raft/snapshot saves the database, steps the message, answers 204", async () => {
  const db = patternBytes(3 * 1024 * 1024);
  const head = encodeMessageFrame(snapMsg);
  const body = new Uint8Array(head.length + db.length);
  body.set(head);
  body.set(db, head.length);
  await withListener(async (base, { dbs, received, lines }) => {
    const res = await fetch(base + "/raft/snapshot", {
      method: "POST",
      headers: goodHeaders(),
      body,
    });
    assert.equal(res.status, 204);
    await res.body?.cancel();
    assert.deepEqual(dbs.get(7), db);
    assert.deepEqual(received, [snapMsg]);
    assert.ok(
      lines.some((l) =>
        l.endsWith(
          "I | rafthttp: receiving database snapshot [index: 7, from: 91ad85a1162022be, raft message size: 0 B]",
        )
      ),
    );
    assert.ok(
      lines.some((l) =>
        /I \| rafthttp: successfully received and saved database snapshot \[index: 7, from: 91ad85a1162022be, raft message size: 0 B, db size: 3.1 MB, took: .+\]$/
          .test(l)
      ),
    );
  });
  await withListener(async (base, { received }) => {
    const res = await fetch(base + "/raft/snapshot", {
      method: "POST",
      headers: goodHeaders(),
      body,
    });
    assert.equal(res.status, 500);
    assert.equal(await res.text(), "failed to save KV snapshot (disk full)\n");
    assert.deepEqual(received, []);
  }, {
    transport: {
      receive: () => {},
      saveSnapshotDb: () => Promise.reject(new Error("disk full")),
      isPeer: () => false,
      attachStream: () => {},
      addRemote: () => {},
    },
  });
});

Deno.test("GET /members, /version and /raft/probing", async () => {
  await withListener(async (base) => {
    const res = await fetch(base + "/members");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("x-etcd-cluster-id"), hex(CID));
    assert.equal(
      await res.text(),
      `[{"id":${KNOWN},"peerURLs":["http://127.0.50.11:2380"],"isLearner":true},` +
        `{"id":11759525908296983115,"peerURLs":["http://${HOST}:2380"],"name":"s1",` +
        `"clientURLs":["http://127.0.50.10:2379"]}]\n`,
    );
    const v = await fetch(base + "/version");
    assert.equal(v.headers.get("content-type"), "application/json");
    assert.equal(await v.text(), '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
    const p = await fetch(base + "/raft/probing");
    assert.match(
      await p.text(),
      /^\{"OK":true,"Now":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"\}\n$/,
    );
  });
  await withListener(async (base) => {
    const v = await fetch(base + "/version");
    assert.equal(await v.text(), '{"etcdserver":"3.4.23","etcdcluster":"not_decided"}');
  }, { version: () => ({ etcdserver: "3.4.23", etcdcluster: "" }) });
});

Deno.test("one connection carries a peer's successive requests (HTTP/1.1 keep-alive)", async () => {
  await withListener(async (base, { received }) => {
    const url = new URL(base);
    const conn = await Http1Connection.connect(url.hostname, Number(url.port));
    try {
      const m = message(KNOWN, LOCAL, 42, {
        entries: [{ term: 1, index: 42, type: 0, data: patternBytes(10) }],
      });
      for (let i = 0; i < 3; i++) {
        const v = await conn.request({ method: "GET", path: "/version" });
        assert.equal(v.status, 200);
        assert.notEqual(v.headers.connection, "close");
        const raft = await conn.request({
          method: "POST",
          path: "/raft",
          headers: goodHeaders(KNOWN, { "Content-Type": "application/protobuf" }),
          body: encodeMessage(m),
        });
        assert.equal(raft.status, 204);
        assert.notEqual(raft.headers.connection, "close");
      }
      assert.equal(conn.isClosed, false);
      assert.equal(received.length, 3);
    } finally {
      conn.destroy();
    }
  });
});
