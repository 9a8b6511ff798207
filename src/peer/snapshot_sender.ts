// Sends snapshots to peers as etcd's snapshotSender does: one `POST /raft/snapshot` per
// MsgSnap, carrying the message and the member's merged snapshot (the backend file), then
// tells Raft whether it arrived. Uploads run beside the message streams, never in them.
import type { Message, Snapshot } from "../raft/mod.ts";
import { networkMetrics as net, secondsSince } from "../metrics/mod.ts";
import { failpoints, hit } from "../failpoint/mod.ts";
import { dialErrorText, request } from "./http1.ts";
import type { StreamContext } from "./peer_stream.ts";
import { encodeSnapshotHead, H, hexId, parseHexId, peerHeaders } from "./wire.ts";

export interface SnapshotSenderContext extends StreamContext {
  /** The peer's URLs; the first one receives the upload. */
  urlsOf(id: bigint): string[];
  /** The snapshot sent in place of Raft's stored one (see PeerTransportOptions). */
  snapshotSource(): Snapshot | Promise<Snapshot>;
  reportSnapshot(id: bigint, ok: boolean): void;
  /** Deadline of one upload. */
  snapshotTimeoutMs: number;
}

export class SnapshotSender {
  readonly #uploads = new Set<AbortController>();
  #closed = false;

  constructor(readonly ctx: SnapshotSenderContext) {}

  // Raft's MsgSnap names its stored snapshot; what goes out is snapshotSource()'s, as etcd
  // sends its merged snapshot. Until that is taken, lines name the stored index.
  async send(m: Message): Promise<void> {
    const log = this.ctx.logger;
    const to = hexId(m.to);
    let index = m.snapshot?.metadata.index ?? 0;
    const upload = new AbortController();
    this.#uploads.add(upload);
    let target: URL | undefined;
    const start = performance.now();
    net.snapshotSendInflights.labels({ To: to }).inc();
    try {
      const urls = this.ctx.urlsOf(m.to);
      if (urls.length === 0) throw new Error(`no peer URL known for ${to}`);
      const snapshot = await this.ctx.snapshotSource();
      index = snapshot.metadata.index;
      if (failpoints.on) await hit("raftBeforeSendSnapshot");
      log.info({
        pkg: "rafthttp",
        text: `start to send database snapshot [index: ${index}, to ${to}]...`,
        msg: "sending database snapshot",
        fields: { "snapshot-index": index, "remote-peer-id": to },
      });
      const started = Date.now();
      target = new URL(urls[0]);
      const bytes = await this.#post(target, { ...m, snapshot }, upload.signal);
      net.peerSentBytes.labels({ To: to }).inc(bytes);
      net.snapshotSend.labels({ To: to }).inc();
      net.snapshotSendSeconds.labels({ To: to }).observe(secondsSince(start));
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
      if (!this.#closed) this.ctx.reportSnapshot(m.to, true);
    } catch (err) {
      this.#failed(m.to, index, target, err);
    } finally {
      this.#uploads.delete(upload);
      net.snapshotSendInflights.labels({ To: to }).dec();
    }
  }

  /** Aborts the uploads under way; their failures are no longer reported. */
  close(): void {
    this.#closed = true;
    for (const u of this.#uploads) u.abort();
  }

  // One upload; throws unless the peer answers 204, after acting on a refusal it understands.
  // Returns the bytes sent: the message and the backend file.
  async #post(
    target: URL,
    m: Message & { snapshot: Snapshot },
    signal: AbortSignal,
  ): Promise<number> {
    const ctx = this.ctx;
    const head = encodeSnapshotHead(m);
    const res = await request(target, {
      method: "POST",
      path: "/raft/snapshot",
      headers: {
        ...peerHeaders(ctx.localId, ctx.clusterId(), ctx.localPeerURLs),
        [H.raftTo]: hexId(m.to),
        "Content-Type": "application/octet-stream",
      },
      body: [head, m.snapshot.data],
      timeoutMs: ctx.snapshotTimeoutMs,
      tls: ctx.tls,
      signal,
    });
    const body = new TextDecoder().decode(res.body).replace(/\n$/, "");
    if (res.status === 410) ctx.onRemoved();
    if (res.status === 412 && body === "cluster ID mismatch") {
      ctx.onClusterIdMismatch(m.to, parseHexId(res.headers.get("x-etcd-cluster-id")) ?? 0n);
    }
    if (res.status !== 204) throw new Error(`unexpected http status ${res.status} (${body})`);
    return head.length + m.snapshot.data.length;
  }

  #failed(id: bigint, index: number, target: URL | undefined, err: unknown): void {
    const to = hexId(id);
    net.peerSentFailures.labels({ To: to }).inc();
    net.snapshotSendFailures.labels({ To: to }).inc();
    // Network failures read as Go's client error, as in etcd's line.
    const why = target && (err as { code?: string }).code
      ? `Post "${new URL("/raft/snapshot", target)}": ${dialErrorText(target, err)}`
      : err instanceof Error
      ? err.message
      : String(err);
    this.ctx.logger.warn({
      pkg: "rafthttp",
      text: `database snapshot [index: ${index}, to: ${to}] failed to be sent out (${why})`,
      msg: "failed to send database snapshot",
      fields: { "snapshot-index": index, "remote-peer-id": to, error: why },
    });
    if (!this.#closed) {
      this.ctx.reportUnreachable(id);
      this.ctx.reportSnapshot(id, false);
    }
  }
}
