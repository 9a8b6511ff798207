// Sends snapshots as etcd's snapshotSender does: one `POST /raft/snapshot` per MsgSnap, whose
// body is etcd's merged snapshot — the MsgSnap carrying the snapshot's metadata and payload
// (8-byte length + raftpb), then the backend database (etcd's bbolt file), streamed chunked as it
// is read — then tells Raft whether it arrived. Uploads run beside the streams, never in them.
import type { Message, Snapshot } from "../raft/mod.ts";
import { humanBytes } from "../log/mod.ts";
import { networkMetrics as net, secondsSince } from "../metrics/mod.ts";
import { failpoints, hit } from "../failpoint/mod.ts";
import { encodeMessageFrame } from "./codec.ts";
import { checkPostResponse, type PeerContext, requestHeaders, type UrlPicker } from "./context.ts";
import { dialErrorText, request } from "./http1.ts";
import type { PeerStatus } from "./peer_status.ts";
import { hexId } from "./wire.ts";

/** The backend's database as a snapshot sends it: its size first, then its bytes. */
export interface SnapshotDatabase {
  size: number;
  pieces(): AsyncIterable<Uint8Array>;
  /** Releases what holds the database (a temporary file); called once it is sent or not. */
  close(): void;
}

/** What a leader sends in place of Raft's stored snapshot (etcd's merged snapshot). */
export interface MergedSnapshot {
  /** The state at the applied index: its metadata, and the payload as the server gives it. */
  snapshot: Snapshot;
  db: SnapshotDatabase;
}

export interface SnapshotSenderContext extends PeerContext {
  snapshotSource(): Promise<MergedSnapshot>;
  /** Deadline of one upload. */
  snapshotTimeoutMs: number;
}

/** The peer a snapshot goes to, as its transport peer knows it. */
export interface SnapshotTarget {
  picker: UrlPicker;
  status: PeerStatus;
}

export class SnapshotSender {
  readonly #uploads = new Set<AbortController>();
  #closed = false;

  constructor(readonly ctx: SnapshotSenderContext) {}

  // Raft's MsgSnap names its stored snapshot; what goes out is snapshotSource()'s, as etcd
  // sends its merged snapshot. Until that is taken, lines name the stored index.
  async send(m: Message, target: SnapshotTarget): Promise<void> {
    const to = hexId(m.to);
    let index = m.snapshot?.metadata.index ?? 0;
    const upload = new AbortController();
    this.#uploads.add(upload);
    let raw: string | undefined;
    const start = performance.now();
    net.snapshotSendInflights.labels({ To: to }).inc();
    try {
      raw = target.picker.pick();
      if (raw === undefined) throw new Error(`no peer URL known for ${to}`);
      if (failpoints.on) await hit("raftBeforeSendSnapshot");
      const merged = await this.ctx.snapshotSource();
      index = merged.snapshot.metadata.index;
      let total = 0;
      try {
        total = await this.#post(
          new URL(raw),
          { ...m, snapshot: merged.snapshot },
          merged.db,
          upload,
        );
      } finally {
        merged.db.close();
      }
      target.status.activate();
      this.ctx.reportSnapshot(m.to, true);
      this.#log("info", `database snapshot [index: ${index}, to: ${to}] sent out successfully`, {
        msg: "sent database snapshot",
        index,
        to,
        total,
      });
      net.peerSentBytes.labels({ To: to }).inc(total);
      net.snapshotSend.labels({ To: to }).inc();
      net.snapshotSendSeconds.labels({ To: to }).observe(secondsSince(start));
    } catch (err) {
      if (raw !== undefined) target.picker.unreachable(raw);
      this.#failed(m.to, index, raw, target, err);
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

  // One upload; throws unless the peer answers 204. Returns the bytes sent.
  async #post(
    url: URL,
    m: Message & { snapshot: Snapshot },
    db: SnapshotDatabase,
    upload: AbortController,
  ): Promise<number> {
    const head = encodeMessageFrame(m);
    const total = head.length + db.size;
    const index = m.snapshot.metadata.index;
    this.#log(
      "info",
      `start to send database snapshot [index: ${index}, to ${hexId(m.to)}, size ${
        humanBytes(total)
      }]...`,
      { msg: "sending database snapshot", index, to: hexId(m.to), total },
    );
    async function* body(): AsyncGenerator<Uint8Array> {
      yield head;
      yield* db.pieces();
    }
    const res = await request(url, {
      method: "POST",
      path: "/raft/snapshot",
      headers: { ...requestHeaders(this.ctx), "Content-Type": "application/octet-stream" },
      stream: body(),
      timeoutMs: this.ctx.snapshotTimeoutMs,
      tls: this.ctx.tls,
      signal: upload.signal,
    });
    checkPostResponse(this.ctx, m.to, res, new URL("/raft/snapshot", url));
    return total;
  }

  #log(
    level: "info" | "warn",
    text: string,
    r: { msg: string; index: number; to: string; total?: number; error?: string },
  ): void {
    this.ctx.logger[level]({
      pkg: "rafthttp",
      text,
      msg: r.msg,
      fields: {
        "snapshot-index": r.index,
        "remote-peer-id": r.to,
        ...(r.total === undefined ? {} : { bytes: r.total, size: humanBytes(r.total) }),
        ...(r.error === undefined ? {} : { error: r.error }),
      },
    });
  }

  #failed(
    id: bigint,
    index: number,
    raw: string | undefined,
    target: SnapshotTarget,
    err: unknown,
  ): void {
    const to = hexId(id);
    net.peerSentFailures.labels({ To: to }).inc();
    net.snapshotSendFailures.labels({ To: to }).inc();
    // Network failures read as Go's client error, as in etcd's line.
    const why = raw !== undefined && (err as { code?: string }).code
      ? `Post "${new URL("/raft/snapshot", raw)}": ${dialErrorText(new URL(raw), err)}`
      : err instanceof Error
      ? err.message
      : String(err);
    this.#log(
      "warn",
      `database snapshot [index: ${index}, to: ${to}] failed to be sent out (${why})`,
      {
        msg: "failed to send database snapshot",
        index,
        to,
        error: why,
      },
    );
    if (this.#closed) return;
    target.status.deactivate({ source: "sendMsgSnap", action: "post" }, why);
    this.ctx.reportUnreachable(id);
    this.ctx.reportSnapshot(id, false);
  }
}
