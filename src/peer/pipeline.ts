// etcd's pipeline: messages for a peer whose streams are not up (and for a member known only by
// the URLs it announced), one `POST /raft` each, four in flight at a time, 64 waiting at most,
// on connections kept open between posts.
// A post that works activates the peer; one that fails tells Raft the peer is unreachable.
import { encodeMessage, type Message } from "../raft/mod.ts";
import { networkMetrics } from "../metrics/mod.ts";
import { checkPostResponse, type PeerContext, requestHeaders, type UrlPicker } from "./context.ts";
import { dialErrorText } from "./http1.ts";
import { KeepAlive } from "./keepalive.ts";
import type { PeerStatus } from "./peer_status.ts";
import { CONN_TIMEOUT_MS } from "./stream_writer.ts";
import { hexId } from "./wire.ts";

/** etcd's connPerPipeline and pipelineBufSize. */
const IN_FLIGHT = 4;
const MAX_WAITING = 64;

export class Pipeline {
  #waiting: Message[] = [];
  #inFlight = 0;
  #closed = false;
  readonly #uploads = new Set<AbortController>();
  readonly #connections: KeepAlive;
  readonly #to: { To: string };

  constructor(
    readonly peerId: bigint,
    readonly picker: UrlPicker,
    readonly status: PeerStatus,
    readonly ctx: PeerContext,
  ) {
    this.#to = { To: hexId(peerId) };
    this.#connections = new KeepAlive(ctx.tls);
    ctx.logger.info({
      pkg: "rafthttp",
      text: `started HTTP pipelining with peer ${hexId(peerId)}`,
      msg: "started HTTP pipelining with remote peer",
      fields: { "local-member-id": hexId(ctx.localId), "remote-peer-id": hexId(peerId) },
    });
  }

  /** Queues a message; false when the queue is full (the caller drops it). */
  send(m: Message): boolean {
    if (this.#closed || this.#waiting.length >= MAX_WAITING) return false;
    this.#waiting.push(m);
    this.#pump();
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting = [];
    for (const u of this.#uploads) u.abort();
    this.#connections.close();
    this.ctx.logger.info({
      pkg: "rafthttp",
      text: `stopped HTTP pipelining with peer ${hexId(this.peerId)}`,
      msg: "stopped HTTP pipelining with remote peer",
      fields: { "local-member-id": hexId(this.ctx.localId), "remote-peer-id": hexId(this.peerId) },
    });
  }

  #pump(): void {
    while (this.#inFlight < IN_FLIGHT && this.#waiting.length > 0) {
      const m = this.#waiting.shift()!;
      this.#inFlight++;
      void this.#post(m).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #post(m: Message): Promise<void> {
    const raw = this.picker.pick();
    const body = encodeMessage(m);
    const upload = new AbortController();
    this.#uploads.add(upload);
    try {
      if (raw === undefined) throw new Error(`no peer URL known for ${hexId(this.peerId)}`);
      const url = new URL(raw);
      try {
        const res = await this.#connections.request(url, {
          method: "POST",
          path: "/raft",
          headers: { ...requestHeaders(this.ctx), "Content-Type": "application/protobuf" },
          body: [body],
          timeoutMs: CONN_TIMEOUT_MS,
          signal: upload.signal,
        });
        checkPostResponse(this.ctx, this.peerId, res, new URL("/raft", url));
      } catch (err) {
        this.picker.unreachable(raw);
        throw (err as { code?: string }).code ? new Error(dialErrorText(url, err)) : err;
      }
    } catch (err) {
      if (!this.#closed) this.#failed(m, (err as Error).message);
      return;
    } finally {
      this.#uploads.delete(upload);
    }
    this.status.activate();
    networkMetrics.peerSentBytes.labels(this.#to).inc(body.length);
  }

  #failed(m: Message, reason: string): void {
    this.status.deactivate({ source: "pipeline", action: "write" }, reason);
    this.ctx.reportUnreachable(m.to);
    networkMetrics.peerSentFailures.labels(this.#to).inc();
  }
}
