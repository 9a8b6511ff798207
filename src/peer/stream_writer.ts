// etcd's streamWriter: the sending end of a stream. The peer's stream reader dials us
// (`GET /raft/stream/<type>/<its id>`) and the listener hands the response here; messages for
// the peer are written into it for as long as it lasts, with a link heartbeat every
// ConnReadTimeout/3 so the reader knows the link is alive. send() never blocks: messages wait
// in a bounded queue and leave in one write per microtask.
import type http from "node:http";
import type { Message } from "../raft/mod.ts";
import { networkMetrics } from "../metrics/mod.ts";
import {
  linkHeartbeat,
  messageEncoder,
  MsgAppV2Encoder,
  type StreamEncoder,
  streamName,
  type StreamType,
} from "./codec.ts";
import type { PeerContext } from "./context.ts";
import type { PeerStatus } from "./peer_status.ts";
import { concatBytes } from "../pb/mod.ts";
import { hexId } from "./wire.ts";

/** etcd's streamBufSize: messages queued for one stream before new ones are dropped. */
export const MAX_QUEUED_MESSAGES = 4096;
/** etcd's ConnReadTimeout and ConnWriteTimeout. */
export const CONN_TIMEOUT_MS = 5000;
const HEARTBEAT_MS = CONN_TIMEOUT_MS / 3;
/** Encoded bytes per write: big batches are split so one write never holds the whole queue. */
const CHUNK_BYTES = 1024 * 1024;

interface Conn {
  res: http.ServerResponse;
  encoder: StreamEncoder;
  /** The socket did not take the last write: waiting for it to drain. */
  blocked: boolean;
  stalled?: ReturnType<typeof setTimeout>;
}

export class StreamWriter {
  #conn?: Conn;
  #queue: Message[] = [];
  #head = 0; // first unsent message in #queue
  #flushScheduled = false;
  #closed = false;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  readonly #name: string;
  readonly #to: { To: string };
  #sentBytes?: { inc(n: number): void };

  constructor(
    readonly type: StreamType,
    readonly peerId: bigint,
    readonly status: PeerStatus,
    readonly ctx: PeerContext,
  ) {
    this.#name = streamName(type);
    this.#to = { To: hexId(peerId) };
    this.#heartbeat = setInterval(() => this.#sendHeartbeat(), HEARTBEAT_MS);
    this.#log("info", `started streaming with peer ${hexId(peerId)} (writer)`);
  }

  /** A connection is attached: messages sent now go out on it. */
  get working(): boolean {
    return this.#conn !== undefined;
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues a message; false when the queue is full (the caller drops it). */
  send(m: Message): boolean {
    if (!this.#conn || this.queued >= MAX_QUEUED_MESSAGES) return false;
    this.#queue.push(m);
    this.#scheduleFlush();
    return true;
  }

  /** The peer's reader connected: replaces the connection in use, if any. */
  attach(res: http.ServerResponse): void {
    if (this.#closed) return void res.end();
    const replaced = this.#closeConn();
    const conn: Conn = {
      res,
      encoder: this.type === "msgappv2" ? new MsgAppV2Encoder() : messageEncoder,
      blocked: false,
    };
    this.#conn = conn;
    res.on("close", () => {
      if (this.#conn === conn) this.#lost("write", "connection closed by the peer");
    });
    this.status.activate();
    const id = hexId(this.peerId);
    if (replaced) {
      this.#log(
        "warn",
        `closed an existing TCP streaming connection with peer ${id} (${this.#name} writer)`,
      );
    }
    this.#log(
      "info",
      `established a TCP streaming connection with peer ${id} (${this.#name} writer)`,
      "established TCP streaming connection with remote peer",
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    const id = hexId(this.peerId);
    if (this.#closeConn()) {
      this.#log(
        "info",
        `closed the TCP streaming connection with peer ${id} (${this.#name} writer)`,
      );
    }
    this.#log("info", `stopped streaming with peer ${id} (writer)`);
  }

  #log(level: "info" | "warn", text: string, msg?: string): void {
    const fields = {
      "stream-writer-type": this.#name,
      "local-member-id": hexId(this.ctx.localId),
      "remote-peer-id": hexId(this.peerId),
    };
    this.ctx.logger[level]({ pkg: "rafthttp", text, msg, fields });
  }

  // Ends the connection in use; what was queued for it is lost (Raft hears of it).
  #closeConn(): boolean {
    const conn = this.#conn;
    if (!conn) return false;
    this.#conn = undefined;
    clearTimeout(conn.stalled);
    conn.res.end();
    if (this.queued > 0) this.ctx.reportUnreachable(this.peerId);
    this.#queue = [];
    this.#head = 0;
    return true;
  }

  // The connection failed under us: etcd's write or heartbeat failure.
  #lost(action: string, reason: string): void {
    const conn = this.#conn;
    if (!conn) return;
    this.status.deactivate({ source: this.#name, action }, reason);
    this.#closeConn();
    conn.res.destroy();
    networkMetrics.peerSentFailures.labels(this.#to).inc();
    this.#log(
      "warn",
      `lost the TCP streaming connection with peer ${hexId(this.peerId)} (${this.#name} writer)`,
      "lost TCP streaming connection with remote peer",
    );
  }

  #sendHeartbeat(): void {
    const conn = this.#conn;
    if (!conn || conn.blocked) return;
    const parts: Uint8Array[] = [];
    const n = conn.encoder.encode(linkHeartbeat(), parts);
    this.#write(conn, parts, n);
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
    const conn = this.#conn;
    if (!conn || conn.blocked) return;
    let parts: Uint8Array[] = [];
    let bytes = 0;
    while (this.#head < this.#queue.length && !conn.blocked) {
      bytes += conn.encoder.encode(this.#queue[this.#head++], parts);
      if (bytes >= CHUNK_BYTES) {
        this.#write(conn, parts, bytes);
        parts = [];
        bytes = 0;
      }
    }
    if (parts.length > 0) this.#write(conn, parts, bytes);
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  // One write; a socket that stops taking data for ConnWriteTimeout loses the connection.
  #write(conn: Conn, parts: Uint8Array[], bytes: number): void {
    (this.#sentBytes ??= networkMetrics.peerSentBytes.labels(this.#to)).inc(bytes);
    if (conn.res.write(concatBytes(parts))) return;
    conn.blocked = true;
    conn.stalled = setTimeout(() => this.#lost("write", "i/o timeout"), CONN_TIMEOUT_MS);
    conn.res.once("drain", () => {
      clearTimeout(conn.stalled);
      conn.blocked = false;
      if (this.#conn === conn) this.#flush();
    });
  }
}
