// The peer transport (etcd's rafthttp.Transport): the peers of the membership, each with its
// streams and pipeline; remotes (members known only by the URLs they announced) with a
// pipeline; the snapshot uploads; and the receiving end the peer listener feeds.
import type http from "node:http";
import { type Message, MessageType } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { LogLimiter } from "./checks.ts";
import type { StreamType } from "./codec.ts";
import type { PeerContext } from "./context.ts";
import type { PeerClientTLS } from "./http1.ts";
import { Peer, Remote } from "./peer.ts";
import type { PeerReceiver } from "./raft_handlers.ts";
import { type MergedSnapshot, SnapshotSender } from "./snapshot_sender.ts";
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
  /**
   * The database that came with a snapshot (etcd's bbolt file): save it where the snapshot at
   * `index` will find it; resolves with its size once it is durable. The MsgSnap follows.
   */
  saveSnapshotDb(index: number, db: AsyncIterable<Uint8Array>): Promise<number>;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
  /** A peer refused our request with `412 cluster ID mismatch`; the member decides. */
  onClusterIdMismatch(peerId: bigint, remoteClusterId: bigint): void;
  /** A peer says this member was removed (called once). */
  onRemoved(): void;
  /**
   * The snapshot sent in place of Raft's stored one (etcd's merged snapshot): the state at the
   * applied index, with its term and configuration, and the backend database.
   */
  snapshotSource(): Promise<MergedSnapshot>;
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
  /** Re-reads the peer's URLs (after a member update); streams on a URL no longer listed end. */
  updatePeer(id: bigint): void;
  /** When the peer became active (ms since the epoch), 0 if it is not. */
  activeSince(id: bigint): number;
  close(): void;
}

export function createPeerTransport(opts: PeerTransportOptions): PeerTransport {
  return new Transport(opts);
}

class Transport implements PeerTransport {
  readonly #peers = new Map<bigint, Peer>();
  readonly #remotes = new Map<bigint, Remote>();
  readonly #ctx: PeerContext;
  readonly #snapshots: SnapshotSender;
  #removed = false;
  #closed = false;

  constructor(readonly opts: PeerTransportOptions) {
    this.#ctx = {
      localId: opts.localId,
      clusterId: opts.clusterId,
      localPeerURLs: opts.localPeerURLs,
      tls: opts.tls,
      logger: opts.logger,
      limiter: new LogLimiter(),
      dialTimeoutMs: opts.dialTimeoutMs ?? 1000,
      receive: (m) => this.receive(m),
      reportUnreachable: (id) => this.#closed || opts.reportUnreachable(id),
      reportSnapshot: (id, ok) => this.#closed || opts.reportSnapshot(id, ok),
      onClusterIdMismatch: opts.onClusterIdMismatch,
      // Every stream and post may learn of the removal; the member hears of it once.
      onRemoved: () => {
        if (this.#removed) return;
        this.#removed = true;
        opts.onRemoved();
      },
    };
    this.#snapshots = new SnapshotSender({
      ...this.#ctx,
      snapshotSource: opts.snapshotSource,
      snapshotTimeoutMs: opts.snapshotTimeoutMs ?? 300_000,
    });
  }

  send(msgs: Message[]): void {
    if (this.#closed) return;
    for (const m of msgs) {
      if (m.to === 0n || m.to === this.opts.localId) continue;
      const p = this.#peerFor(m.to);
      const snap = m.type === MessageType.MsgSnap;
      // Snapshots go to peers only, as etcd's SendSnapshot: a remote gets messages.
      if (p && snap) void this.#snapshots.send(m, p);
      else if (p) p.send(m);
      else if (!snap && this.#remotes.has(m.to)) this.#remotes.get(m.to)!.send(m);
      else {
        this.opts.logger.debug({
          pkg: "rafthttp",
          text: `ignored message ${MessageType[m.type]} (sent to unknown peer ${hexId(m.to)})`,
        });
        if (snap) this.opts.reportSnapshot(m.to, false);
      }
    }
  }

  addPeer(id: bigint): void {
    if (this.#closed || id === this.opts.localId || this.#peers.has(id)) return;
    // A remote that becomes a member is a peer from now on.
    this.#remotes.get(id)?.close();
    this.#remotes.delete(id);
    this.#peers.set(id, new Peer(id, () => this.opts.peerURLsOf(id), this.#ctx));
    this.opts.logger.info({
      pkg: "rafthttp",
      text: `added peer ${hexId(id)}`,
      msg: "added remote peer",
      fields: { "remote-peer-id": hexId(id), "remote-peer-urls": this.opts.peerURLsOf(id) },
    });
  }

  removePeer(id: bigint): void {
    this.#peers.get(id)?.close();
    this.#peers.delete(id);
    this.#remotes.get(id)?.close();
    this.#remotes.delete(id);
  }

  updatePeer(id: bigint): void {
    this.#peers.get(id)?.refresh();
  }

  activeSince(id: bigint): number {
    return this.#peers.get(id)?.status.activeSince ?? 0;
  }

  // etcd's Process: a removed member's messages are refused; the rest go to Raft.
  receive(m: Message): void {
    if (this.#closed) return;
    if (this.opts.isRemoved(m.from)) {
      if (this.#ctx.limiter.allow(`removed:${m.from}`)) {
        this.opts.logger.warn({
          pkg: "etcdserver",
          text: `reject message from removed member ${hexId(m.from)}`,
          msg: "rejected Raft message from removed member",
          fields: { "removed-member-id": hexId(m.from) },
        });
      }
      return;
    }
    this.opts.onMessage(m);
  }

  isPeer(id: bigint): boolean {
    return this.#peers.has(id);
  }

  attachStream(from: bigint, type: StreamType, res: http.ServerResponse): void {
    const p = this.#peers.get(from);
    if (p && !this.#closed) p.attach(type, res);
    else res.end();
  }

  addRemote(id: bigint, urls: string[]): void {
    if (this.#closed || id === this.opts.localId || this.opts.isRemoved(id)) return;
    if (this.#peers.has(id) || this.#remotes.has(id)) return;
    this.#remotes.set(id, new Remote(id, urls, this.#ctx));
    this.opts.logger.info({
      pkg: "rafthttp",
      text: `added remote peer ${hexId(id)}`,
      msg: "added new remote peer",
      fields: { "remote-peer-id": hexId(id), "remote-peer-urls": urls },
      only: "zap",
    });
  }

  saveSnapshotDb(index: number, db: AsyncIterable<Uint8Array>): Promise<number> {
    if (this.#closed) return Promise.reject(new Error("transport closed"));
    return this.opts.saveSnapshotDb(index, db);
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#peers.values()) p.close();
    for (const r of this.#remotes.values()) r.close();
    this.#peers.clear();
    this.#remotes.clear();
    this.#snapshots.close();
  }

  // A member that Raft talks to before the server added it (a conf change just applied) is
  // added on first use, when the membership knows its URLs.
  #peerFor(id: bigint): Peer | undefined {
    const known = this.#peers.get(id);
    if (known || this.opts.isRemoved(id) || this.opts.peerURLsOf(id).length === 0) return known;
    this.addPeer(id);
    return this.#peers.get(id);
  }
}
