// Fixtures for peer tests: members made of a transport and a listener on 127.0.50.x, with
// every callback recorded.
import type { Message } from "../../src/raft/mod.ts";
import {
  createPeerTransport,
  type PeerListener,
  type PeerMember,
  type PeerTransport,
  type PeerTransportOptions,
  servePeer,
  type ServePeerOptions,
} from "../../src/peer/mod.ts";
import { testLog } from "./log.ts";

export interface TestMember {
  id: bigint;
  host: string;
  url: string;
  transport: PeerTransport;
  listener: PeerListener;
  received: Message[];
  snapshots: Message[];
  unreachable: bigint[];
  snapshotReports: [bigint, boolean][];
  mismatches: [bigint, bigint][];
  removedCalls: number;
  lines: string[];
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
  } = {},
): Promise<TestMember> {
  const { log: logger, lines } = testLog("debug");
  const clusterId = () => overrides.clusterId ?? cluster.clusterId;
  const m = {
    id,
    host,
    received: [] as Message[],
    snapshots: [] as Message[],
    unreachable: [] as bigint[],
    snapshotReports: [] as [bigint, boolean][],
    mismatches: [] as [bigint, bigint][],
    removedCalls: 0,
    lines,
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
    onSnapshot: (msg) => {
      m.snapshots.push(msg);
      return Promise.resolve();
    },
    reportUnreachable: (peer) => m.unreachable.push(peer),
    reportSnapshot: (peer, ok) => m.snapshotReports.push([peer, ok]),
    onClusterIdMismatch: (peer, cid) => m.mismatches.push([peer, cid]),
    onRemoved: () => m.removedCalls++,
    snapshotSource: () => ({
      metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
      data: new Uint8Array(0),
    }),
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
    isKnown: (peer) => cluster.urls.has(peer),
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
