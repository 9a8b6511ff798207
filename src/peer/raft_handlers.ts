// The receiving end of raft traffic, as etcd's rafthttp serves it: the pipeline (`POST /raft`,
// one message), the stream requests of peers' readers (`GET /raft/stream/<type>/<from>`, whose
// responses carry our messages to them), and snapshot uploads (`POST /raft/snapshot`, the
// message, then the database). Every request is checked for version and cluster ID first.
import type http from "node:http";
import { decodeMessage, type Message, MessageType } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { humanBytes } from "../log/mod.ts";
import { formatGoDuration } from "../config/mod.ts";
import { networkMetrics as net, secondsSince } from "../metrics/mod.ts";
import { failpoints, hit } from "../failpoint/mod.ts";
import { checkCompatibility, firstHeader, LogLimiter, REJECT, type Rejection } from "./checks.ts";
import { readMessageFrom, type StreamType } from "./codec.ts";
import { allowMethod, httpError, plain, readBody, sendBody } from "./respond.ts";
import { H, hexId, parseHexId, SERVER_VERSION } from "./wire.ts";

/** Where incoming raft traffic goes (the transport; a stub in tests). */
export interface PeerReceiver {
  /** A message from a peer (etcd's Process); a removed member's are refused. */
  receive(m: Message): void;
  /** Saves the database a snapshot brought; resolves with its size once it is durable. */
  saveSnapshotDb(index: number, db: AsyncIterable<Uint8Array>): Promise<number>;
  /** Whether `id` is one of the transport's peers (whose streams we serve). */
  isPeer(id: bigint): boolean;
  /** A peer's stream request was accepted: its response carries our messages from now on. */
  attachStream(from: bigint, type: StreamType, res: http.ServerResponse): void;
  /**
   * A peer that sends us raft traffic told us its URLs (`X-PeerURLs`): answers can reach it
   * before our membership lists it (etcd's addRemoteFromRequest; a joining member needs it).
   */
  addRemote(id: bigint, peerURLs: string[]): void;
}

export interface RaftReceiverOptions {
  localId: bigint;
  clusterId(): bigint;
  isRemoved(id: bigint): boolean;
  transport: PeerReceiver;
  logger: Logger;
}

type Req = http.IncomingMessage;
type Res = http.ServerResponse;

function reject(res: Res, r: Rejection): void {
  httpError(res, r.status, r.body);
}

/** etcd's answer to a message from a removed member (an httptypes.HTTPError). */
function refuseRemoved(res: Res): void {
  sendBody(
    res,
    "application/json",
    '{"message":"cannot process message from removed member"}',
    {},
    403,
  );
}

export class RaftHandlers {
  readonly #limiter = new LogLimiter();
  readonly #compat;

  constructor(readonly opts: RaftReceiverOptions) {
    this.#compat = { clusterId: opts.clusterId, logger: opts.logger, limiter: this.#limiter };
  }

  // POST /raft: one message. An unknown sender is accepted (a joining member hears from the
  // leader before its log has told it who the leader is); a removed one is refused.
  async pipeline(req: Req, res: Res): Promise<void> {
    if (!this.#admitPost(req, res)) return;
    let body: Uint8Array;
    try {
      body = await readBody(req);
    } catch (err) {
      this.#refusal("warn", `failed to read raft message (${(err as Error).message})`);
      net.peerReceivedFailures.labels({ From: req.socket.remoteAddress ?? "" }).inc();
      return httpError(res, 400, "error reading raft message");
    }
    let m: Message;
    try {
      m = decodeMessage(body);
    } catch (err) {
      this.#refusal("warn", `failed to unmarshal raft message (${(err as Error).message})`);
      net.peerReceivedFailures.labels({ From: req.socket.remoteAddress ?? "" }).inc();
      return httpError(res, 400, "error unmarshalling raft message");
    }
    net.peerReceivedBytes.labels({ From: hexId(m.from) }).inc(body.length);
    if (this.opts.isRemoved(m.from)) return refuseRemoved(res);
    this.opts.transport.receive(m);
    res.writeHead(204);
    res.end();
  }

  // GET /raft/stream/{msgapp,message}/<from>: a peer's reader. Accepted, the response stays
  // open and carries our messages to it.
  stream(req: Req, res: Res, path: string): void {
    if (!allowMethod(req, res, "GET")) return;
    res.setHeader(H.serverVersion, SERVER_VERSION);
    if (!this.#admit(req, res)) return;
    const slash = path.lastIndexOf("/");
    const dir = path.slice(0, slash);
    const type: StreamType | undefined = dir === "/raft/stream/msgapp"
      ? "msgappv2"
      : dir === "/raft/stream/message"
      ? "message"
      : undefined;
    if (!type) {
      this.#refusal("debug", `ignored unexpected streaming request path ${path}`);
      return reject(res, REJECT.invalidPath);
    }
    const fromText = path.slice(slash + 1);
    const from = parseHexId(fromText);
    if (from === undefined) {
      this.#refusal("error", `failed to parse from ${fromText} into ID`);
      return reject(res, REJECT.invalidFrom);
    }
    const id = hexId(from);
    if (this.opts.isRemoved(from)) {
      this.#refusal("warn", `rejected the stream from peer ${id} since it was removed`);
      return reject(res, REJECT.removedMember);
    }
    if (!this.opts.transport.isPeer(from)) {
      this.#noteRemote(req, from);
      const cid = hexId(this.opts.clusterId());
      this.#refusal("error", `failed to find member ${id} in cluster ${cid}`);
      return reject(res, REJECT.senderNotFound);
    }
    const to = firstHeader(req.headers, H.raftTo) ?? "";
    const local = hexId(this.opts.localId);
    if (to !== local) {
      this.#refusal("error", `streaming request ignored (ID mismatch got ${to} want ${local})`);
      return reject(res, REJECT.toFieldMismatch);
    }
    res.writeHead(200);
    res.flushHeaders();
    this.opts.transport.attachStream(from, type, res);
  }

  // POST /raft/snapshot: the MsgSnap, then the database, saved before the message is stepped.
  async snapshot(req: Req, res: Res): Promise<void> {
    if (!this.#admitPost(req, res)) {
      net.snapshotReceiveFailures.labels({ From: "UNKNOWN_SNAPSHOT_SENDER" }).inc();
      return;
    }
    const start = performance.now();
    const chunks = (async function* () {
      for await (const c of req) yield plain(c as Uint8Array);
    })();
    let m: Message;
    let db: AsyncIterable<Uint8Array>;
    try {
      ({ message: m, rest: db } = await readMessageFrom(chunks, Number.MAX_SAFE_INTEGER));
    } catch (err) {
      const text = `failed to decode raft message (${(err as Error).message})`;
      this.opts.logger.error({ pkg: "rafthttp", text, msg: "failed to decode Raft message" });
      net.snapshotReceiveFailures.labels({ From: "0" }).inc();
      return httpError(res, 400, text);
    }
    const from = hexId(m.from);
    if (m.type !== MessageType.MsgSnap || !m.snapshot) {
      this.opts.logger.error({
        pkg: "rafthttp",
        text: `unexpected raft message type ${MessageType[m.type]} on snapshot path`,
        msg: "unexpected Raft message type",
      });
      net.snapshotReceiveFailures.labels({ From: from }).inc();
      return httpError(res, 400, "wrong raft message type");
    }
    net.snapshotReceiveInflights.labels({ From: from }).inc();
    try {
      if (await this.#receiveSnapshot(m, db, res, start)) {
        net.snapshotReceive.labels({ From: from }).inc();
        net.snapshotReceiveSeconds.labels({ From: from }).observe(secondsSince(start));
      } else {
        net.snapshotReceiveFailures.labels({ From: from }).inc();
      }
    } finally {
      net.snapshotReceiveInflights.labels({ From: from }).dec();
    }
  }

  // Saves the database, then steps the message; whether the peer got its 204.
  async #receiveSnapshot(
    m: Message,
    db: AsyncIterable<Uint8Array>,
    res: Res,
    start: number,
  ): Promise<boolean> {
    const log = this.opts.logger;
    const index = m.snapshot!.metadata.index;
    const from = hexId(m.from);
    const msgSize = humanBytes(m.snapshot!.data.length);
    const fields = { "remote-snapshot-sender-id": from, "incoming-snapshot-index": index };
    log.info({
      pkg: "rafthttp",
      text: `receiving database snapshot [index: ${index}, from: ${from}, raft message size: ` +
        `${msgSize}]`,
      msg: "receiving database snapshot",
      fields,
    });
    let size: number;
    try {
      if (failpoints.on) await hit("raftBeforeReceiveSnapshot");
      size = await this.opts.transport.saveSnapshotDb(index, db);
    } catch (err) {
      const text = `failed to save KV snapshot (${(err as Error).message})`;
      log.error({
        pkg: "rafthttp",
        text,
        msg: "failed to save incoming database snapshot",
        fields,
      });
      httpError(res, 500, text);
      return false;
    }
    net.peerReceivedBytes.labels({ From: from }).inc(size);
    log.info({
      pkg: "rafthttp",
      text: `successfully received and saved database snapshot [index: ${index}, from: ${from}, ` +
        `raft message size: ${msgSize}, db size: ${humanBytes(size)}, took: ${
          formatGoDuration(performance.now() - start)
        }]`,
      msg: "received and saved database snapshot",
      fields: { ...fields, "incoming-snapshot-size-bytes": size },
    });
    if (this.opts.isRemoved(m.from)) {
      refuseRemoved(res);
      return false;
    }
    this.opts.transport.receive(m);
    res.writeHead(204);
    res.end();
    return true;
  }

  // Version and cluster ID first; every raft response names our cluster.
  #admit(req: Req, res: Res): boolean {
    res.setHeader(H.clusterId, hexId(this.opts.clusterId()));
    const r = checkCompatibility(req.headers, this.#compat);
    if (r) reject(res, r);
    return !r;
  }

  // What the pipeline and snapshot paths check before reading a body: a POST from a
  // compatible member of our cluster. Its URLs are noted on the way.
  #admitPost(req: Req, res: Res): boolean {
    if (!allowMethod(req, res, "POST") || !this.#admit(req, res)) return false;
    const from = parseHexId(firstHeader(req.headers, H.from));
    if (from !== undefined) this.#noteRemote(req, from);
    return true;
  }

  #noteRemote(req: Req, from: bigint): void {
    const urls = (firstHeader(req.headers, H.peerURLs) ?? "").split(",").filter((u) => u !== "");
    if (urls.length > 0) this.opts.transport.addRemote(from, urls);
  }

  // A refused request, logged at most once per interval for each text.
  #refusal(level: "debug" | "warn" | "error", text: string): void {
    if (this.#limiter.allow(text)) this.opts.logger[level]({ pkg: "rafthttp", text });
  }
}
