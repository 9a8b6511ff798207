// etcd's streamReader: the receiving end of a stream, which this member opens. It dials
// `GET /raft/stream/<type>/<local id>` on the peer and reads the messages the peer's writer puts
// in the response for as long as it lasts, then dials again (at most ten times a second). A
// response silent for ConnReadTimeout (the writer heartbeats three times as often) is dead.
import type net from "node:net";
import type { Message } from "../raft/mod.ts";
import { networkMetrics } from "../metrics/mod.ts";
import { parseSemVer } from "../config/mod.ts";
import {
  isLinkHeartbeat,
  messageReader,
  msgAppV2Reader,
  StreamDecoder,
  streamName,
  type StreamType,
} from "./codec.ts";
import { ChunkedDecoder } from "./chunked.ts";
import {
  ERR_MEMBER_REMOVED,
  type PeerContext,
  preconditionFailed,
  requestHeaders,
  type UrlPicker,
} from "./context.ts";
import {
  dial,
  dialErrorText,
  isChunked,
  parseBody,
  parseHead,
  requestHead,
  type ResponseHead,
} from "./http1.ts";
import type { PeerStatus } from "./peer_status.ts";
import { plain } from "./respond.ts";
import { CONN_TIMEOUT_MS } from "./stream_writer.ts";
import { H, hexId } from "./wire.ts";
import { concatBytes } from "../pb/mod.ts";

/** etcd's DialRetryFrequency: one dial per 100 ms at most. */
const DIAL_INTERVAL_MS = 100;

/** How a connection ended: EOF (the writer closed it), or an error. */
type Ended = { error?: string };

export class StreamReader {
  #closed = false;
  #socket?: net.Socket;
  #url?: string;
  #wake?: () => void;
  readonly #name: string;
  readonly #done: Promise<void>;

  constructor(
    readonly type: StreamType,
    readonly peerId: bigint,
    readonly picker: UrlPicker,
    readonly status: PeerStatus,
    readonly ctx: PeerContext,
  ) {
    this.#name = streamName(type);
    this.#log("info", `started streaming with peer ${hexId(peerId)} (${this.#name} reader)`);
    this.#done = this.#run();
  }

  /** Drops the connection if its URL is no longer the peer's; the next dial picks anew. */
  refresh(): void {
    if (this.#url !== undefined && !this.picker.urls().includes(this.#url)) {
      this.#socket?.destroy();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#socket?.destroy();
    this.#wake?.();
    await this.#done;
  }

  #log(level: "info" | "warn", text: string, msg?: string, error?: string): void {
    const fields = {
      "stream-reader-type": this.#name,
      "local-member-id": hexId(this.ctx.localId),
      "remote-peer-id": hexId(this.peerId),
      ...(error === undefined ? {} : { error }),
    };
    this.ctx.logger[level]({ pkg: "rafthttp", text, msg, fields });
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      const started = Date.now();
      await this.#attempt();
      const wait = started + DIAL_INTERVAL_MS - Date.now();
      if (wait > 0 && !this.#closed) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          setTimeout(resolve, wait);
        });
      }
    }
    this.#log("info", `stopped streaming with peer ${hexId(this.peerId)} (${this.#name} reader)`);
  }

  // One dial, and the stream it opens until it ends.
  async #attempt(): Promise<void> {
    const raw = this.picker.pick();
    if (raw === undefined) return this.#failed("dial", "no peer URL known");
    const url = new URL(raw);
    let socket: net.Socket;
    try {
      socket = await dial(url, this.ctx.tls, this.ctx.dialTimeoutMs);
    } catch (err) {
      this.picker.unreachable(raw);
      return this.#failed("dial", dialErrorText(url, err));
    }
    if (this.#closed) return void socket.destroy();
    this.#socket = socket;
    this.#url = raw;
    const path = `/raft/stream/${this.type === "msgappv2" ? "msgapp" : "message"}/` +
      hexId(this.ctx.localId);
    const headers = { ...requestHeaders(this.ctx), [H.raftTo]: hexId(this.peerId) };
    socket.write(requestHead("GET", url, path, headers));
    const ended = await this.#exchange(socket, url, raw);
    this.#socket = undefined;
    this.#url = undefined;
    socket.destroy();
    if (ended) this.#ended(ended);
  }

  #failed(action: string, reason: string): void {
    if (!this.#closed) this.status.deactivate({ source: this.#name, action }, reason);
  }

  #ended(ended: Ended): void {
    this.#log(
      "warn",
      `lost the TCP streaming connection with peer ${hexId(this.peerId)} (${this.#name} reader)`,
      "lost TCP streaming connection with remote peer",
      ended.error ?? "EOF",
    );
    if (ended.error !== undefined) this.#failed("read", ended.error);
  }

  // Reads the response: a refusal is handled (undefined returned), a stream is read until it
  // ends (how it ended returned).
  #exchange(socket: net.Socket, url: URL, raw: string): Promise<Ended | undefined> {
    return new Promise((resolve) => {
      let head: { head: ResponseHead; bodyStart: number } | undefined;
      let buf: Uint8Array = new Uint8Array(0);
      let body: ((chunk: Uint8Array) => boolean) | undefined;
      let error: string | undefined;
      let settled = false;
      const finish = (v: Ended | undefined) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        resolve(v);
      };
      socket.setTimeout(CONN_TIMEOUT_MS, () => {
        error = `read tcp ${socket.localAddress}:${socket.localPort}->` +
          `${socket.remoteAddress}:${socket.remotePort}: i/o timeout`;
        socket.destroy();
      });
      socket.on("error", (err) => (error ??= dialErrorText(url, err)));
      socket.on("data", (data: Uint8Array) => {
        // Decoded messages keep views of these bytes: plain arrays, whose slice() copies.
        const chunk = plain(data);
        if (body) {
          if (!body(chunk)) finish({});
          return;
        }
        buf = buf.length === 0 ? chunk : concatBytes([buf, chunk]);
        try {
          head ??= parseHead(buf);
          if (!head) return;
          if (head.head.status === 200) {
            body = this.#streaming(head.head, (err) => finish({ error: err }));
            if (!body) return finish(undefined);
            if (!body(buf.subarray(head.bodyStart))) finish({});
            return;
          }
          const answer = parseBody(head.head, buf, head.bodyStart, false);
          if (answer) finish(this.#refused(head.head, answer, raw));
        } catch (err) {
          error = (err as Error).message;
          socket.destroy();
        }
      });
      socket.once("close", () => {
        if (body) return finish(error === undefined ? {} : { error });
        if (head && head.head.status !== 200) {
          const answer = parseBody(head.head, buf, head.bodyStart, true);
          if (answer) return finish(this.#refused(head.head, answer, raw));
        }
        this.picker.unreachable(raw);
        this.#failed("dial", error ?? "unexpected EOF");
        finish(undefined);
      });
    });
  }

  // The peer accepted: returns the body's reader (false once the body has ended), or
  // undefined when the peer's version does not serve this stream type.
  #streaming(
    head: ResponseHead,
    failed: (error: string) => void,
  ): ((chunk: Uint8Array) => boolean) | undefined {
    const remote = head.headers.get(H.serverVersion.toLowerCase()) || "2.0.0";
    if (!supportsStreams(remote)) return undefined;
    this.status.activate();
    this.#log(
      "info",
      `established a TCP streaming connection with peer ${
        hexId(this.peerId)
      } (${this.#name} reader)`,
      "established TCP streaming connection with remote peer",
    );
    const chunked = isChunked(head) ? new ChunkedDecoder() : undefined;
    const decoder = new StreamDecoder(
      this.type === "msgappv2" ? msgAppV2Reader(this.ctx.localId, this.peerId) : messageReader(),
    );
    const from = { From: hexId(this.peerId) };
    return (chunk) => {
      try {
        for (const piece of chunked ? chunked.push(chunk) : [chunk]) {
          const msgs = decoder.push(piece);
          if (msgs.length > 0) networkMetrics.peerReceivedBytes.labels(from).inc(decoder.lastBytes);
          for (const m of msgs) if (!isLinkHeartbeat(m)) this.#deliver(m);
        }
      } catch (err) {
        failed((err as Error).message);
        return false;
      }
      return !chunked?.done;
    };
  }

  #deliver(m: Message): void {
    if (!this.#closed) this.ctx.receive(m);
  }

  // etcd's streamReader.dial for an answer other than 200.
  #refused(head: ResponseHead, body: Uint8Array, raw: string): undefined {
    this.picker.unreachable(raw);
    const peer = hexId(this.peerId);
    let reason: string;
    if (head.status === 410) {
      this.ctx.onRemoved();
      reason = ERR_MEMBER_REMOVED;
    } else if (head.status === 404) {
      reason = `peer ${peer} failed to find local node ${hexId(this.ctx.localId)}`;
    } else if (head.status === 412) {
      const remote = head.headers.get(H.clusterId.toLowerCase()) ?? "";
      reason =
        preconditionFailed(this.ctx, this.peerId, new TextDecoder().decode(body), remote, "peer")
          .message;
    } else {
      reason = `unhandled http status ${head.status}`;
    }
    this.#failed("dial", reason);
    return undefined;
  }
}

/** etcd's checkStreamSupport: every version since 2.1 serves both stream types. */
function supportsStreams(version: string): boolean {
  const v = parseSemVer(version);
  return v !== undefined && (v[0] > 2 || (v[0] === 2 && v[1] >= 1));
}
