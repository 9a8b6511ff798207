// Fixtures for peer tests: members made of a transport and a listener on 127.0.50.x, with
// every callback recorded.
import { type Message, MessageType, type Snapshot } from "../../src/raft/mod.ts";
import {
  createPeerTransport,
  type MergedSnapshot,
  type PeerListener,
  type PeerMember,
  type PeerReceiver,
  type PeerTransport,
  type PeerTransportOptions,
  servePeer,
  type ServePeerOptions,
} from "../../src/peer/mod.ts";
import { type TestLog, testLog } from "./log.ts";

export interface TestMember {
  id: bigint;
  host: string;
  url: string;
  transport: PeerTransport;
  listener: PeerListener;
  /** Messages stepped, MsgSnap included (after its database was saved). */
  received: Message[];
  /** Databases saved, by snapshot index. */
  dbs: Map<number, Uint8Array>;
  unreachable: bigint[];
  snapshotReports: [bigint, boolean][];
  mismatches: [bigint, bigint][];
  removedCalls: number;
  lines: string[];
  log: TestLog;
  /** Stops the listener only (the peer "goes down"); restart() brings it back on its port. */
  stopListener(): Promise<void>;
  restartListener(): Promise<void>;
  close(): Promise<void>;
}

export interface Cluster {
  clusterId: bigint;
  /** Peer URLs by member ID, as the membership would give them. */
  urls: Map<bigint, string>;
  removed: Set<bigint>;
}

export function message(from: bigint, to: bigint, index: number, extra: Partial<Message> = {}) {
  return {
    type: 3,
    to,
    from,
    term: 1,
    logTerm: 1,
    index,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
    ...extra,
  } as Message;
}

export async function startMember(
  cluster: Cluster,
  id: bigint,
  host: string,
  overrides: {
    transport?: Partial<PeerTransportOptions>;
    listener?: Partial<ServePeerOptions>;
    clusterId?: bigint;
    port?: number;
    scheme?: "http" | "https";
    /** zap lines in place of capnslog's (etcd logs some failures only there). */
    zap?: boolean;
  } = {},
): Promise<TestMember> {
  const log = testLog("debug", { logger: overrides.zap ? "zap" : "capnslog" });
  const { log: logger, lines } = log;
  const clusterId = () => overrides.clusterId ?? cluster.clusterId;
  const m = {
    id,
    host,
    received: [] as Message[],
    dbs: new Map<number, Uint8Array>(),
    unreachable: [] as bigint[],
    snapshotReports: [] as [bigint, boolean][],
    mismatches: [] as [bigint, bigint][],
    removedCalls: 0,
    lines,
    log,
  } as TestMember;
  // Filled in once the listener has its port; the transport reads it at each request.
  const localPeerURLs: string[] = [];
  m.transport = createPeerTransport({
    localId: id,
    clusterId,
    localPeerURLs,
    peerURLsOf: (peer) => (cluster.urls.has(peer) ? [cluster.urls.get(peer)!] : []),
    isRemoved: (peer) => cluster.removed.has(peer),
    onMessage: (msg) => m.received.push(msg),
    saveSnapshotDb: async (index, db) => {
      const parts: Uint8Array[] = [];
      for await (const p of db) parts.push(p.slice());
      const bytes = new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer());
      m.dbs.set(index, bytes);
      return bytes.length;
    },
    reportUnreachable: (peer) => m.unreachable.push(peer),
    reportSnapshot: (peer, ok) => m.snapshotReports.push([peer, ok]),
    onClusterIdMismatch: (peer, cid) => m.mismatches.push([peer, cid]),
    onRemoved: () => m.removedCalls++,
    snapshotSource: () =>
      Promise.resolve(
        mergedSnapshot(
          { metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data },
          new Uint8Array(0),
        ),
      ),
    logger,
    ...overrides.transport,
  });
  const listenerOpts: ServePeerOptions = {
    localId: id,
    clusterId,
    members: (): PeerMember[] =>
      [...cluster.urls].map(([mid, url]) => ({
        id: mid,
        name: "",
        peerURLs: [url],
        clientURLs: [],
        isLearner: false,
      })),
    isRemoved: (peer) => cluster.removed.has(peer),
    version: () => ({ etcdserver: "3.4.23", etcdcluster: "3.4.0" }),
    transport: m.transport,
    logger,
    ...overrides.listener,
  };
  let port = overrides.port ?? 0;
  const scheme = overrides.scheme ?? "http";
  const listen = async () => {
    m.listener = await servePeer(new URL(`${scheme}://${host}:${port}`), listenerOpts);
    port = m.listener.address.port;
  };
  await listen();
  m.url = `${scheme}://${host}:${port}`;
  if (!overrides.transport?.localPeerURLs) localPeerURLs.push(m.url);
  cluster.urls.set(id, m.url);
  m.stopListener = () => m.listener.close();
  m.restartListener = listen;
  m.close = async () => {
    m.transport.close();
    await m.listener.close();
  };
  return m;
}

/** `n` bytes of a pattern that catches shifted or truncated copies. */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + seed + (i >> 8)) & 0xff;
  return out;
}

const data = new Uint8Array(0);

/** A merged snapshot whose database is `db`, read in pieces of `piece` bytes. */
export function mergedSnapshot(snapshot: Snapshot, db: Uint8Array, piece = 32 * 1024) {
  let closed = 0;
  return {
    snapshot,
    db: {
      size: db.length,
      async *pieces() {
        for (let off = 0; off < db.length; off += piece) yield db.subarray(off, off + piece);
      },
      close: () => void closed++,
    },
    get closed() {
      return closed;
    },
  } satisfies MergedSnapshot & { closed: number };
}

/** A MsgSnap as Raft hands it to the transport (its stored snapshot, to be replaced). */
export function snapMessage(from: bigint, to: bigint, index: number): Message {
  return message(from, to, 0, {
    type: MessageType.MsgSnap,
    snapshot: {
      metadata: { index, term: 1, confState: { voters: [from, to], learners: [] } },
      data: new TextEncoder().encode("stored"),
    },
  });
}

/** A receiver for listeners whose raft traffic a test does not look at. */
export function idleReceiver(): PeerReceiver {
  return {
    receive: () => {},
    saveSnapshotDb: () => Promise.reject(new Error("no snapshots here")),
    isPeer: () => false,
    attachStream: (_from, _type, res) => void res.end(),
    addRemote: () => {},
  };
}
