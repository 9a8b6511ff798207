// The peer transport (etcd's rafthttp, simplified): one message stream per peer for Raft's
// messages, a separate upload per snapshot, and the receiving end the peer listener feeds.
import { type Message, MessageType, type Snapshot } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { LogLimiter } from "./checks.ts";
import type { PeerClientTLS } from "./http1.ts";
import type { PeerReceiver } from "./raft_handlers.ts";
import { PeerStream, type StreamContext } from "./peer_stream.ts";
import { SnapshotSender } from "./snapshot_sender.ts";
import { hexId } from "./wire.ts";

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
  return new Transport(opts);
}

// etcd's rafthttp.Transport: the streams to the peers, the URLs senders announced for members
// the membership does not list yet, and the snapshot uploads.
class Transport implements PeerTransport {
  readonly #peers = new Map<bigint, PeerStream>();
  // URLs that senders announced, for members our membership does not list (yet).
  readonly #remotes = new Map<bigint, string[]>();
  readonly #stream: StreamContext;
  readonly #snapshots: SnapshotSender;
  #removed = false;
  #closed = false;

  constructor(readonly opts: PeerTransportOptions) {
    this.#stream = {
      localId: opts.localId,
      clusterId: opts.clusterId,
      localPeerURLs: opts.localPeerURLs,
      tls: opts.tls,
      logger: opts.logger,
      limiter: new LogLimiter(),
      dialTimeoutMs: opts.dialTimeoutMs ?? 1000,
      reportUnreachable: opts.reportUnreachable,
      onClusterIdMismatch: opts.onClusterIdMismatch,
      // Every stream and upload may learn of the removal; the member hears of it once.
      onRemoved: () => {
        if (this.#removed) return;
        this.#removed = true;
        opts.onRemoved();
      },
    };
    this.#snapshots = new SnapshotSender({
      ...this.#stream,
      urlsOf: (id) => this.#urlsOf(id),
      snapshotSource: opts.snapshotSource,
      reportSnapshot: opts.reportSnapshot,
      snapshotTimeoutMs: opts.snapshotTimeoutMs ?? 300_000,
    });
  }

  send(msgs: Message[]): void {
    if (this.#closed) return;
    for (const m of msgs) {
      if (m.to === this.opts.localId) continue;
      if (m.type === MessageType.MsgSnap) {
        void this.#snapshots.send(m);
        continue;
      }
      const p = this.#peerFor(m.to);
      if (p) p.send(m);
      else {
        this.opts.logger.debug({
          pkg: "rafthttp",
          text: `ignored message send request to unknown peer ${hexId(m.to)}`,
        });
      }
    }
  }

  addPeer(id: bigint): void {
    this.#addPeer(id);
  }

  removePeer(id: bigint): void {
    this.#peers.get(id)?.close();
    this.#peers.delete(id);
    this.#remotes.delete(id);
  }

  updatePeer(id: bigint): void {
    this.#peers.get(id)?.refresh();
  }

  activeSince(id: bigint): number {
    return this.#peers.get(id)?.activeSince ?? 0;
  }

  receive(m: Message): void {
    if (!this.#closed) this.opts.onMessage(m);
  }

  addRemote(id: bigint, urls: string[]): void {
    if (this.#closed || id === this.opts.localId || this.opts.isRemoved(id)) return;
    const known = this.#remotes.get(id);
    if (known && known.join(",") === urls.join(",")) return;
    this.#remotes.set(id, urls);
    // A stream that found no URL, or an outdated one, tries the announced ones.
    if (this.opts.peerURLsOf(id).length === 0) this.#peers.get(id)?.refresh();
  }

  receiveSnapshot(m: Message): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("transport closed"));
    return this.opts.onSnapshot(m);
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#peers.values()) p.close();
    this.#peers.clear();
    this.#snapshots.close();
  }

  #urlsOf(id: bigint): string[] {
    const urls = this.opts.peerURLsOf(id);
    return urls.length > 0 ? urls : this.#remotes.get(id) ?? [];
  }

  #addPeer(id: bigint): PeerStream | undefined {
    if (this.#closed || id === this.opts.localId || this.opts.isRemoved(id)) return undefined;
    let p = this.#peers.get(id);
    if (!p) {
      p = new PeerStream(id, () => this.#urlsOf(id), this.#stream);
      this.#peers.set(id, p);
    }
    return p;
  }

  // A member that Raft talks to before the server added it (a conf change just applied, or
  // the leader of the cluster this member is joining) is added on first use.
  #peerFor(id: bigint): PeerStream | undefined {
    return this.#peers.get(id) ?? (this.#urlsOf(id).length > 0 ? this.#addPeer(id) : undefined);
  }
}
