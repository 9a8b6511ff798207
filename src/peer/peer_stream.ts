// The message stream to one peer: a single long-lived `POST /raft` whose chunked body carries
// every raft message for that peer, in order. send() never blocks: messages wait in a bounded
// queue and leave in one socket write per microtask; a full queue or a peer that is down drops
// them and reports the peer unreachable, as etcd does, and Raft retries on its own schedule.
import type net from "node:net";
import { encodeMessage, type Message } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { networkMetrics } from "../metrics/mod.ts";
import type { LogLimiter } from "./checks.ts";
import { PeerProber } from "./prober.ts";
import {
  dial,
  dialErrorText,
  parseBody,
  parseHead,
  type PeerClientTLS,
  requestHead,
} from "./http1.ts";
import { frameChunk, H, hexId, parseHexId, peerHeaders } from "./wire.ts";

/** etcd's stream buffer: messages queued for one peer before new ones are dropped. */
export const MAX_QUEUED_MESSAGES = 4096;
/** Bytes handed to the socket but not yet flushed before the queue stops draining. */
const SOCKET_HIGH_WATER = 4 * 1024 * 1024;
/** Encoded bytes per chunk: big batches are split so one write never holds the whole queue. */
const CHUNK_BYTES = 1024 * 1024;
/** Pause before redialling after a connection failure, and after a refusal by the peer. */
const RETRY_MS = 100;
const RETRY_REFUSED_MS = 1000;
/** How long a peer may take to answer the stream request (etcd's ConnReadTimeout). */
const RESPONSE_TIMEOUT_MS = 5000;

export interface StreamContext {
  localId: bigint;
  clusterId(): bigint;
  localPeerURLs: string[];
  tls?: PeerClientTLS;
  logger: Logger;
  limiter: LogLimiter;
  dialTimeoutMs: number;
  reportUnreachable(id: bigint): void;
  onClusterIdMismatch(peerId: bigint, remoteClusterId: bigint): void;
  onRemoved(): void;
}

type State = "connecting" | "streaming" | "down" | "closed";

export class PeerStream {
  #state: State = "down";
  #queue: Message[] = [];
  #head = 0; // first unsent message in #queue
  #socket?: net.Socket;
  #url?: string;
  #urlIndex = 0;
  #activeSince = 0;
  #retry?: ReturnType<typeof setTimeout>;
  #flushScheduled = false;
  #unreachableScheduled = false;
  #dialFailureLogged = false;
  // Series appear with their first count, as etcd's do.
  #sentBytes?: { inc(n: number): void };
  readonly #to: { To: string };
  readonly #pair; // etcd's Local and Remote labels
  readonly #prober: PeerProber;

  constructor(
    readonly id: bigint,
    readonly urls: () => string[],
    readonly ctx: StreamContext,
  ) {
    this.#to = { To: hexId(id) };
    this.#pair = { Local: hexId(ctx.localId), Remote: hexId(id) };
    this.#prober = new PeerProber(id, urls, ctx);
    this.#redial();
  }

  /** Time (ms since the epoch) the stream became usable; 0 while it is not. */
  get activeSince(): number {
    return this.#activeSince;
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  send(m: Message): void {
    if (this.#state === "closed") return;
    if (this.#state === "down") return this.#dropped();
    if (this.queued >= MAX_QUEUED_MESSAGES) {
      if (this.ctx.limiter.allow("full:" + this.id)) {
        this.ctx.logger.warn({
          pkg: "rafthttp",
          text: `dropped internal raft message to ${
            hexId(this.id)
          } since sending buffer is full (bad/overloaded network)`,
          msg: "dropped internal Raft message since sending buffer is full",
          fields: { "remote-peer-id": hexId(this.id) },
        });
      }
      return this.#dropped();
    }
    this.#queue.push(m);
    if (this.#state === "streaming") this.#scheduleFlush();
  }

  /** The peer's URLs changed: reconnect unless the current one is still listed. */
  refresh(): void {
    if (this.#state === "closed") return;
    if (this.#url !== undefined && this.urls().includes(this.#url)) return;
    if (this.#state === "down") {
      clearTimeout(this.#retry);
      this.#redial();
    } else {
      this.#socket?.destroy();
    }
  }

  close(): void {
    if (this.#activeSince !== 0) networkMetrics.activePeers.labels(this.#pair).dec();
    this.#prober.close();
    this.#state = "closed";
    clearTimeout(this.#retry);
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#queue = [];
    this.#head = 0;
  }

  // Raft only needs to hear once per burst that the peer is unreachable; etcd counts every
  // message lost.
  #dropped(messages = 1): void {
    networkMetrics.peerSentFailures.labels(this.#to).inc(messages);
    if (this.#unreachableScheduled) return;
    this.#unreachableScheduled = true;
    queueMicrotask(() => {
      this.#unreachableScheduled = false;
      if (this.#state !== "closed") this.ctx.reportUnreachable(this.id);
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const socket = this.#socket;
    if (this.#state !== "streaming" || !socket) return;
    let parts: Uint8Array[] = [];
    let bytes = 0;
    while (this.#head < this.#queue.length && socket.writableLength < SOCKET_HIGH_WATER) {
      const b = encodeMessage(this.#queue[this.#head++]);
      parts.push(b);
      (this.#sentBytes ??= networkMetrics.peerSentBytes.labels(this.#to)).inc(b.length);
      bytes += b.length + 4;
      if (bytes >= CHUNK_BYTES) {
        socket.write(frameChunk(parts));
        parts = [];
        bytes = 0;
      }
    }
    if (parts.length > 0) socket.write(frameChunk(parts));
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #nextURL(): string | undefined {
    const urls = this.urls();
    if (urls.length === 0) return undefined;
    return urls[this.#urlIndex++ % urls.length];
  }

  #redial(): void {
    this.#connect().catch((err) => this.#down(String(err), RETRY_REFUSED_MS));
  }

  async #connect(): Promise<void> {
    const raw = this.#nextURL();
    if (raw === undefined) return this.#down("no peer URL known", RETRY_REFUSED_MS);
    this.#state = "connecting";
    this.#url = raw;
    const url = new URL(raw);
    let socket: net.Socket;
    try {
      socket = await dial(url, this.ctx.tls, this.ctx.dialTimeoutMs);
    } catch (err) {
      return this.#down(dialErrorText(url, err), RETRY_MS);
    }
    if (this.#state !== "connecting") return void socket.destroy();
    if (!this.urls().includes(raw)) {
      socket.destroy(); // the peer moved while we dialled
      return this.#connect();
    }
    this.#socket = socket;
    const headers = {
      ...peerHeaders(this.ctx.localId, this.ctx.clusterId(), this.ctx.localPeerURLs),
      [H.raftTo]: hexId(this.id),
      "Content-Type": "application/octet-stream",
      "Transfer-Encoding": "chunked",
    };
    socket.write(requestHead("POST", url, "/raft", headers));
    this.#awaitAnswer(socket, url);
  }

  // Reads the peer's answer to the stream request: 200 opens the stream; a refusal is handled
  // once its body has arrived. After the 200 nothing more comes until the stream ends.
  #awaitAnswer(socket: net.Socket, url: URL): void {
    let buf = new Uint8Array(0);
    let answered = false;
    let error: unknown;
    const timer = setTimeout(() => {
      error = Object.assign(new Error("i/o timeout"), { code: "ETIMEDOUT" });
      socket.destroy();
    }, RESPONSE_TIMEOUT_MS);
    const examine = (closed: boolean) => {
      const parsed = parseHead(buf);
      if (!parsed) return;
      if (parsed.head.status === 200) {
        answered = true;
        clearTimeout(timer);
        socket.off("data", onData);
        socket.resume(); // the rest of the response is the stream's end, read and ignored
        return this.#streaming(socket);
      }
      const body = parseBody(parsed.head, buf, parsed.bodyStart, closed);
      if (!body) return;
      answered = true;
      clearTimeout(timer);
      socket.off("data", onData);
      this.#refused(parsed.head.status, parsed.head.headers, new TextDecoder().decode(body));
      socket.destroy();
    };
    const onData = (chunk: Uint8Array) => {
      const next = new Uint8Array(buf.length + chunk.length);
      next.set(buf);
      next.set(chunk, buf.length);
      buf = next;
      try {
        examine(false);
      } catch (err) {
        error = err;
        socket.destroy();
      }
    };
    socket.on("data", onData);
    socket.on("error", (err) => (error ??= err));
    socket.on("drain", () => this.#flush());
    socket.once("close", () => {
      clearTimeout(timer);
      if (!answered && error === undefined) {
        try {
          examine(true);
        } catch (err) {
          error = err;
        }
      }
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      if (this.#state === "closed") return;
      if (this.#state === "streaming") {
        this.ctx.logger.warn({
          pkg: "rafthttp",
          text: `lost the TCP streaming connection with peer ${
            hexId(this.id)
          } (stream Message writer)`,
          msg: "lost TCP streaming connection with remote peer",
          fields: { "remote-peer-id": hexId(this.id) },
        });
        this.#down(error === undefined ? "" : dialErrorText(url, error), RETRY_MS);
      } else if (!answered) {
        this.#down(error === undefined ? "unexpected EOF" : dialErrorText(url, error), RETRY_MS);
      }
    });
  }

  #streaming(socket: net.Socket): void {
    this.#state = "streaming";
    this.#dialFailureLogged = false;
    const id = hexId(this.id);
    if (this.#activeSince === 0) {
      this.#activeSince = Date.now();
      networkMetrics.activePeers.labels(this.#pair).inc();
      this.ctx.logger.info({
        pkg: "rafthttp",
        text: `peer ${id} became active`,
        msg: "peer became active",
        fields: { "peer-id": id },
      });
    }
    this.ctx.logger.info({
      pkg: "rafthttp",
      text: `established a TCP streaming connection with peer ${id} (stream Message writer)`,
      msg: "established TCP streaming connection with remote peer",
      fields: { "stream-writer-type": "stream Message", "remote-peer-id": id },
    });
    if (socket === this.#socket) this.#flush();
  }

  #refused(status: number, headers: Map<string, string>, body: string): void {
    const text = body.replace(/\n$/, "");
    const id = hexId(this.id);
    const log = this.ctx.logger;
    if (status === 412 && text === "cluster ID mismatch") {
      const remote = headers.get(H.clusterId.toLowerCase()) ?? "";
      const local = hexId(this.ctx.clusterId());
      if (this.ctx.limiter.allow(`ignored:${id}:${remote}`)) {
        log.error({
          pkg: "rafthttp",
          text:
            `request sent was ignored (cluster ID mismatch: peer[${id}]=${remote}, local=${local})`,
          msg: "request sent was ignored by remote peer due to cluster ID mismatch",
          fields: {
            "remote-peer-id": id,
            "remote-peer-cluster-id": remote,
            "local-member-id": hexId(this.ctx.localId),
            "local-member-cluster-id": local,
          },
        });
      }
      this.#down(undefined, RETRY_REFUSED_MS);
      this.ctx.onClusterIdMismatch(this.id, parseHexId(remote) ?? 0n);
      return;
    }
    if (status === 412 && text === "incompatible version") {
      if (this.ctx.limiter.allow(`version:${id}`)) {
        log.error({
          pkg: "rafthttp",
          text: `request sent was ignored by peer ${id} (server version incompatible)`,
          msg: "request sent was ignored by remote peer due to server version incompatibility",
          fields: { "remote-peer-id": id },
        });
      }
      return this.#down(undefined, RETRY_REFUSED_MS);
    }
    if (status === 410) {
      this.#down(undefined, RETRY_REFUSED_MS);
      this.ctx.onRemoved();
      return;
    }
    this.#down(`unexpected http status ${status} (${text})`, RETRY_REFUSED_MS);
  }

  // The stream is unusable: drop what waits, tell Raft, log the transition, redial later.
  // `reason` undefined means the refusal was logged already.
  #down(reason: string | undefined, retryMs: number): void {
    if (this.#state === "closed") return;
    const id = hexId(this.id);
    this.#state = "down";
    this.#socket?.destroy();
    this.#socket = undefined;
    if (this.queued > 0) this.#dropped(this.queued);
    this.#queue = [];
    this.#head = 0;
    if (this.#activeSince !== 0) {
      this.#activeSince = 0;
      networkMetrics.activePeers.labels(this.#pair).dec();
      networkMetrics.disconnectedPeers.labels(this.#pair).inc();
      this.ctx.logger.error({
        pkg: "rafthttp",
        text: `peer ${id} became inactive (message send to peer failed)`,
        msg: "peer became inactive (message send to peer failed)",
        fields: { "peer-id": id, error: reason ?? "" },
      });
    }
    if (reason && !this.#dialFailureLogged) {
      this.#dialFailureLogged = true;
      this.ctx.logger.warn({
        pkg: "rafthttp",
        text: `failed to dial ${id} on stream Message (${reason})`,
        msg: "failed to dial remote peer",
        fields: { "remote-peer-id": id, error: reason },
      });
    }
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => this.#redial(), retryMs);
  }
}
