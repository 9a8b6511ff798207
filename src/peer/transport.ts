// The peer transport (etcd's rafthttp, simplified): one message stream per peer for Raft's
// messages, a separate upload per snapshot, and the receiving end the peer listener feeds.
import { type Message, MessageType, type Snapshot } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { LogLimiter } from "./checks.ts";
import { dialErrorText, type PeerClientTLS, request } from "./http1.ts";
import type { PeerReceiver } from "./listener.ts";
import { PeerStream } from "./peer_stream.ts";
import { encodeSnapshotHead, H, hexId, parseHexId, peerHeaders } from "./wire.ts";

export interface PeerTransportOptions {
  localId: bigint;
  /** Read on every request: a joining member adopts the cluster's ID after start. */
  clusterId(): bigint;
  localPeerURLs: string[];
  /** A member's peer URLs, from the membership. */
  peerURLsOf(id: bigint): string[];
  isRemoved(id: bigint): boolean;
  /** A message from a peer, to be stepped into Raft. */
  onMessage(m: Message): void;
  /** A MsgSnap whose snapshot data is the leader's backend file: save it, then step it. */
  onSnapshot(m: Message): Promise<void>;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
  /** A peer refused our request with `412 cluster ID mismatch`; the member decides. */
  onClusterIdMismatch(peerId: bigint, remoteClusterId: bigint): void;
  /** A peer answered 410: this member was removed from the cluster (called once). */
  onRemoved(): void;
  /**
   * The snapshot sent in place of Raft's stored one (etcd's merged snapshot): the state at the
   * applied index, with its term and configuration, and the backend file as data.
   */
  snapshotSource(): Snapshot | Promise<Snapshot>;
  logger: Logger;
  tls?: PeerClientTLS;
  /** Connection timeout for peers (default 1 s). */
  dialTimeoutMs?: number;
  /** Deadline of one snapshot upload (default 5 minutes). */
  snapshotTimeoutMs?: number;
}

export interface PeerTransport extends PeerReceiver {
  /** Queues messages for their peers; never blocks. MsgSnap goes by a snapshot upload. */
  send(msgs: Message[]): void;
  addPeer(id: bigint): void;
  removePeer(id: bigint): void;
  /** Re-reads the peer's URLs (after a member update) and reconnects if they changed. */
  updatePeer(id: bigint): void;
  /** When the stream to the peer became usable (ms since the epoch), 0 if it is not. */
  activeSince(id: bigint): number;
  close(): void;
}

export function createPeerTransport(opts: PeerTransportOptions): PeerTransport {
  const log = opts.logger;
  const limiter = new LogLimiter();
  const peers = new Map<bigint, PeerStream>();
  // URLs that senders announced, for members our membership does not list (yet).
  const remotes = new Map<bigint, string[]>();
  const urlsOf = (id: bigint): string[] => {
    const urls = opts.peerURLsOf(id);
    return urls.length > 0 ? urls : remotes.get(id) ?? [];
  };
  const uploads = new Set<AbortController>();
  let removed = false;
  let closed = false;
  const ctx = {
    localId: opts.localId,
    clusterId: opts.clusterId,
    localPeerURLs: opts.localPeerURLs,
    tls: opts.tls,
    logger: log,
    limiter,
    dialTimeoutMs: opts.dialTimeoutMs ?? 1000,
    reportUnreachable: opts.reportUnreachable,
    onClusterIdMismatch: opts.onClusterIdMismatch,
    onRemoved: () => {
      if (removed) return;
      removed = true;
      opts.onRemoved();
    },
  };

  const addPeer = (id: bigint): PeerStream | undefined => {
    if (closed || id === opts.localId || opts.isRemoved(id)) return undefined;
    let p = peers.get(id);
    if (!p) {
      p = new PeerStream(id, () => urlsOf(id), ctx);
      peers.set(id, p);
    }
    return p;
  };

  // A member that Raft talks to before the server added it (a conf change just applied, or
  // the leader of the cluster this member is joining) is added on first use.
  const peerFor = (id: bigint): PeerStream | undefined =>
    peers.get(id) ?? (urlsOf(id).length > 0 ? addPeer(id) : undefined);

  // Raft's MsgSnap names its stored snapshot; what goes out is snapshotSource()'s, as etcd
  // sends its merged snapshot. Until that is taken, lines name the stored index.
  const sendSnapshot = async (m: Message) => {
    const to = hexId(m.to);
    let index = m.snapshot?.metadata.index ?? 0;
    const upload = new AbortController();
    uploads.add(upload);
    let target: URL | undefined;
    try {
      const urls = urlsOf(m.to);
      if (urls.length === 0) throw new Error(`no peer URL known for ${to}`);
      const snapshot = await opts.snapshotSource();
      index = snapshot.metadata.index;
      log.info({
        pkg: "rafthttp",
        text: `start to send database snapshot [index: ${index}, to ${to}]...`,
        msg: "sending database snapshot",
        fields: { "snapshot-index": index, "remote-peer-id": to },
      });
      const started = Date.now();
      target = new URL(urls[0]);
      const res = await request(target, {
        method: "POST",
        path: "/raft/snapshot",
        headers: {
          ...peerHeaders(opts.localId, opts.clusterId(), opts.localPeerURLs),
          [H.raftTo]: to,
          "Content-Type": "application/octet-stream",
        },
        body: [encodeSnapshotHead({ ...m, snapshot }), snapshot.data],
        timeoutMs: opts.snapshotTimeoutMs ?? 300_000,
        tls: opts.tls,
        signal: upload.signal,
      });
      const body = new TextDecoder().decode(res.body).replace(/\n$/, "");
      if (res.status === 410) ctx.onRemoved();
      if (res.status === 412 && body === "cluster ID mismatch") {
        opts.onClusterIdMismatch(m.to, parseHexId(res.headers.get("x-etcd-cluster-id")) ?? 0n);
      }
      if (res.status !== 204) throw new Error(`unexpected http status ${res.status} (${body})`);
      log.info({
        pkg: "rafthttp",
        text: `database snapshot [index: ${index}, to: ${to}] sent out successfully`,
        msg: "sent database snapshot",
        fields: {
          "snapshot-index": index,
          "remote-peer-id": to,
          "snapshot-size": snapshot.data.length,
          took: `${Date.now() - started}ms`,
        },
      });
      if (!closed) opts.reportSnapshot(m.to, true);
    } catch (err) {
      // Network failures read as Go's client error, as in etcd's line.
      const why = target && (err as { code?: string }).code
        ? `Post "${new URL("/raft/snapshot", target)}": ${dialErrorText(target, err)}`
        : err instanceof Error
        ? err.message
        : String(err);
      log.warn({
        pkg: "rafthttp",
        text: `database snapshot [index: ${index}, to: ${to}] failed to be sent out (${why})`,
        msg: "failed to send database snapshot",
        fields: { "snapshot-index": index, "remote-peer-id": to, error: why },
      });
      if (!closed) {
        opts.reportUnreachable(m.to);
        opts.reportSnapshot(m.to, false);
      }
    } finally {
      uploads.delete(upload);
    }
  };

  return {
    send(msgs) {
      if (closed) return;
      for (const m of msgs) {
        if (m.to === opts.localId) continue;
        if (m.type === MessageType.MsgSnap) {
          void sendSnapshot(m);
          continue;
        }
        const p = peerFor(m.to);
        if (p) p.send(m);
        else {log.debug({
            pkg: "rafthttp",
            text: `ignored message send request to unknown peer ${hexId(m.to)}`,
          });}
      }
    },
    addPeer(id) {
      addPeer(id);
    },
    removePeer(id) {
      peers.get(id)?.close();
      peers.delete(id);
      remotes.delete(id);
    },
    updatePeer(id) {
      peers.get(id)?.refresh();
    },
    activeSince(id) {
      return peers.get(id)?.activeSince ?? 0;
    },
    receive(m) {
      if (!closed) opts.onMessage(m);
    },
    addRemote(id, urls) {
      if (closed || id === opts.localId || opts.isRemoved(id)) return;
      const known = remotes.get(id);
      if (known && known.join(",") === urls.join(",")) return;
      remotes.set(id, urls);
      // A stream that found no URL, or an outdated one, tries the announced ones.
      if (opts.peerURLsOf(id).length === 0) peers.get(id)?.refresh();
    },
    receiveSnapshot(m) {
      if (closed) return Promise.reject(new Error("transport closed"));
      return opts.onSnapshot(m);
    },
    close() {
      closed = true;
      for (const p of peers.values()) p.close();
      peers.clear();
      for (const u of uploads) u.abort();
    },
  };
}
