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
import type { Message } from "../raft/mod.ts";
import {
  Errors,
  type EtcdServer,
  formatId,
  type MemberState,
  mergedSnapshot,
} from "../server/mod.ts";
import { listenHost } from "../tls/mod.ts";
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
  let server: EtcdServer | undefined;
  const membership = () => server?.state.membership ?? state.membership;
  const transport = createPeerTransport({
    localId: state.memberId,
    clusterId: () => membership().clusterId,
    localPeerURLs: config.initialAdvertisePeerUrls.map(String),
    peerURLsOf: (id) => membership().get(id)?.peerURLs ?? [],
    isRemoved: (id) => membership().removed.has(id),
    onMessage: (m: Message) => server?.step(m),
    onSnapshot: (m: Message) => {
      server?.step(m);
      return Promise.resolve();
    },
    reportUnreachable: (id) => server?.node.reportUnreachable(id),
    reportSnapshot: (id, ok) => server?.node.reportSnapshot(id, ok),
    onClusterIdMismatch: (peer, remote) => hooks.clusterIdMismatch(peer, remote),
    onRemoved: () => server?.removed(),
    snapshotSource: () => mergedSnapshot(server!),
    logger: log,
    tls: peerTLS.client,
  });
  // Requests only the leader answers: ours go out through this client, followers' come in on
  // the listeners (answered once the server is attached; a starting member is no leader).
  const closing = new AbortController();
  const leaderClient = createLeaderClient({ tls: peerTLS.client, signal: closing.signal });
  const attached = (): EtcdServer => {
    if (!server) throw Errors.notLeader();
    return server;
  };
  const leader: PeerLeaderApi = {
    renewLease: (id) => attached().lease.renewForwarded(id),
    leaseTimeToLive: (id, keys) => attached().lease.timeToLiveForwarded(id, keys),
    promoteMember: (id) => attached().cluster.promoteForwarded(id),
    hashKV: (revision) => {
      if (!server) throw Errors.notCapable();
      const h = server.maintenance.hashKV(revision);
      return { revision: h.header.revision, hash: h.hash, compactRevision: h.compactRevision };
    },
  };
  const listeners: PeerListener[] = [];
  for (const url of config.listenPeerUrls) {
    try {
      listeners.push(
        await servePeer(url, {
          localId: state.memberId,
          clusterId: () => membership().clusterId,
          members: () =>
            membership().list().map((m) => ({
              id: m.id,
              name: m.name,
              peerURLs: m.peerURLs,
              clientURLs: m.clientURLs,
              isLearner: m.isLearner,
            })),
          isRemoved: (id) => membership().removed.has(id),
          isKnown: (id) => membership().get(id) !== undefined,
          version: () => ({
            etcdserver: ETCD_VERSION,
            etcdcluster: membership().version,
          }),
          transport,
          leader,
          logger: log,
          tls: url.protocol === "https:" ? peerTLS.server : undefined,
        }),
      );
    } catch (err) {
      for (const l of listeners) await l.close();
      transport.close();
      log.fatal({
        pkg: "etcdmain",
        text: `listen tcp ${url.host}: bind: ${(err as Error).message}`,
        msg: "discovery failed",
        fields: { error: (err as Error).message },
      });
    }
    log.info({
      pkg: "embed",
      text: `listening for peers on ${listenHost(url)}:${listeners.at(-1)!.address.port}`,
      msg: "serving peer traffic",
      fields: { address: `${listenHost(url)}:${listeners.at(-1)!.address.port}` },
    });
  }

  const known = new Set<bigint>();
  const syncPeers = () => {
    const m = membership();
    for (const member of m.list()) {
      if (member.id === state.memberId) continue;
      if (!known.has(member.id)) {
        known.add(member.id);
        transport.addPeer(member.id);
      } else {
        transport.updatePeer(member.id);
      }
    }
    for (const id of [...known]) {
      if (!m.get(id)) {
        known.delete(id);
        transport.removePeer(id);
        log.info({ pkg: "rafthttp", text: `removed peer ${formatId(id)}` });
      }
    }
  };
  syncPeers();

  return {
    transport,
    attach: (s) => {
      server = s;
      s.leaderClient = leaderClient;
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
