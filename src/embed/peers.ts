// A member's peer side: the peer listeners (raft traffic in, /members, /version) and the
// transport (raft traffic out), kept in step with the membership the apply path builds.
import type { Config } from "../config/mod.ts";
import { ETCD_VERSION } from "../config/mod.ts";
import type { Logger } from "../log/mod.ts";
import {
  createLeaderClient,
  createPeerTransport,
  type PeerClientTLS,
  type PeerLeaderApi,
  type PeerListener,
  type PeerTransport,
  servePeer,
} from "../peer/mod.ts";
import { Errors } from "../errors/mod.ts";
import {
  type EtcdServer,
  formatId,
  type Membership,
  type MemberState,
  type RaftPeer,
} from "../server/mod.ts";
import { isTLSURL, listenErrorText } from "../tls/mod.ts";
import type tls from "node:tls";

export interface Peering {
  transport: PeerTransport;
  /** Starts serving peers' requests on the listeners opened by openPeerListeners. */
  attach(server: EtcdServer): void;
  close(): Promise<void>;
}

export interface PeerTLS {
  server?: tls.TlsOptions;
  client?: PeerClientTLS;
}

/** The member once attached; until then a starting member drops raft traffic. */
interface Attached {
  server?: EtcdServer;
  peer?: RaftPeer;
}

/**
 * Opens the peer listeners and the transport for `state`. Raft traffic reaches the server once
 * `attach` is called; until then the member is starting and drops what arrives.
 */
export async function openPeering(
  config: Config,
  log: Logger,
  state: MemberState,
  hooks: { clusterIdMismatch(peer: bigint, remote: bigint): void },
  peerTLS: PeerTLS = {},
): Promise<Peering> {
  const at: Attached = {};
  const transport = createTransport(config, log, state, at, hooks, peerTLS);
  // Requests only the leader answers: ours go out through this client, followers' come in on
  // the listeners (answered once the server is attached; a starting member is no leader).
  const closing = new AbortController();
  const leaderClient = createLeaderClient({ tls: peerTLS.client, signal: closing.signal });
  const listeners = await openListeners(config, log, state, transport, leaderApi(at), peerTLS);
  const syncPeers = peerSync(log, state, transport);
  syncPeers();
  return {
    transport,
    attach: (s) => {
      at.server = s;
      at.peer = s.raftPeer();
      s.useLeaderClient(leaderClient);
      s.onMembershipChange(syncPeers);
      syncPeers();
    },
    close: async () => {
      closing.abort();
      transport.close();
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}

function createTransport(
  config: Config,
  log: Logger,
  state: MemberState,
  at: Attached,
  hooks: { clusterIdMismatch(peer: bigint, remote: bigint): void },
  peerTLS: PeerTLS,
): PeerTransport {
  const { membership } = state;
  return createPeerTransport({
    localId: state.memberId,
    clusterId: () => membership.clusterId,
    localPeerURLs: config.initialAdvertisePeerUrls.map(String),
    peerURLsOf: (id) => membership.get(id)?.peerURLs ?? [],
    isRemoved: (id) => membership.removed.has(id),
    onMessage: (m) => at.peer?.step(m),
    onSnapshot: (m) => {
      at.peer?.step(m);
      return Promise.resolve();
    },
    reportUnreachable: (id) => at.peer?.reportUnreachable(id),
    reportSnapshot: (id, ok) => at.peer?.reportSnapshot(id, ok),
    onClusterIdMismatch: (peer, remote) => hooks.clusterIdMismatch(peer, remote),
    onRemoved: () => at.peer?.removed(),
    snapshotSource: () => at.peer!.snapshot(),
    logger: log,
    tls: peerTLS.client,
  });
}

/** What this member answers followers' forwarded requests with. */
function leaderApi(at: Attached): PeerLeaderApi {
  const attached = (): EtcdServer => {
    if (!at.server) throw Errors.notLeader();
    return at.server;
  };
  return {
    renewLease: (id) => attached().lease.renewForwarded(id),
    leaseTimeToLive: (id, keys) => attached().lease.timeToLiveForwarded(id, keys),
    promoteMember: (id) => attached().cluster.promoteForwarded(id),
    hashKV: (revision) => {
      if (!at.server) throw Errors.notCapable();
      const h = at.server.maintenance.hashKV(revision);
      return { revision: h.header.revision, hash: h.hash, compactRevision: h.compactRevision };
    },
  };
}

async function openListeners(
  config: Config,
  log: Logger,
  state: MemberState,
  transport: PeerTransport,
  leader: PeerLeaderApi,
  peerTLS: PeerTLS,
): Promise<PeerListener[]> {
  const { membership } = state;
  const listeners: PeerListener[] = [];
  for (const url of config.listenPeerUrls) {
    try {
      listeners.push(
        await servePeer(url, {
          localId: state.memberId,
          clusterId: () => membership.clusterId,
          members: () => membership.list(),
          isRemoved: (id) => membership.removed.has(id),
          isKnown: (id) => membership.get(id) !== undefined,
          version: () => ({ etcdserver: ETCD_VERSION, etcdcluster: membership.version }),
          transport,
          leader,
          logger: log,
          tls: isTLSURL(url) ? peerTLS.server : undefined,
        }),
      );
    } catch (err) {
      for (const l of listeners) await l.close();
      transport.close();
      const text = listenErrorText(url, err);
      log.fatal({ pkg: "etcdmain", text, msg: "discovery failed", fields: { error: text } });
    }
    const address = listeners.at(-1)!.addr;
    log.info({
      pkg: "embed",
      text: `listening for peers on ${address}`,
      msg: "serving peer traffic",
      fields: { address },
    });
  }
  return listeners;
}

/** Keeps the transport's peers those of the membership (added, updated, removed). */
function peerSync(log: Logger, state: MemberState, transport: PeerTransport): () => void {
  const known = new Set<bigint>();
  const membership: Membership = state.membership;
  return () => {
    for (const member of membership.list()) {
      if (member.id === state.memberId) continue;
      if (!known.has(member.id)) {
        known.add(member.id);
        transport.addPeer(member.id);
      } else {
        transport.updatePeer(member.id);
      }
    }
    for (const id of [...known]) {
      if (!membership.get(id)) {
        known.delete(id);
        transport.removePeer(id);
        log.info({ pkg: "rafthttp", text: `removed peer ${formatId(id)}` });
      }
    }
  };
}
