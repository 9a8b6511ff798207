// The receiving end of raft traffic, as etcd's rafthttp serves it: the pipeline (`POST /raft`,
// where etcd-ts sends its message streams), the receiver-initiated stream paths, and snapshot
// uploads. Every request is checked for version and cluster ID before anything is read.
import type http from "node:http";
import { type Message, MessageType } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { networkMetrics as net, secondsSince } from "../metrics/mod.ts";
import { failpoints, hit } from "../failpoint/mod.ts";
import { checkCompatibility, firstHeader, LogLimiter, REJECT, type Rejection } from "./checks.ts";
import { allowMethod, httpError, plain, readBody } from "./respond.ts";
import { decodeSnapshotBody, FrameDecoder, H, hexId, parseHexId, SERVER_VERSION } from "./wire.ts";

/** Where incoming raft traffic goes (the transport; a stub in tests). */
export interface PeerReceiver {
  receive(m: Message): void;
  /** A MsgSnap whose snapshot data is the sender's backend file; resolves once it is saved. */
  receiveSnapshot(m: Message): Promise<void>;
  /**
   * A peer that sends us raft traffic told us its URLs (`X-PeerURLs`): answers can reach it
   * before our membership lists it (etcd's addRemoteFromRequest; a joining member needs it).
   */
  addRemote?(id: bigint, peerURLs: string[]): void;
}

export interface RaftReceiverOptions {
  localId: bigint;
  clusterId(): bigint;
  isRemoved(id: bigint): boolean;
  isKnown(id: bigint): boolean;
  transport: PeerReceiver;
  logger: Logger;
  /** Largest raft message accepted on a stream (default 64 MiB). */
  maxMessageBytes?: number;
}

type Req = http.IncomingMessage;
type Res = http.ServerResponse;

function reject(res: Res, r: Rejection): void {
  httpError(res, r.status, r.body);
}

export class RaftHandlers {
  readonly #limiter = new LogLimiter();
  readonly #compat;
  readonly #maxMessage: number;

  constructor(readonly opts: RaftReceiverOptions) {
    this.#compat = { clusterId: opts.clusterId, logger: opts.logger, limiter: this.#limiter };
    this.#maxMessage = opts.maxMessageBytes ?? 64 * 1024 * 1024;
  }

  // POST /raft: length-prefixed messages, as one batch or a stream that lasts as long as the
  // sender's connection. An unknown sender is accepted, as etcd's pipeline accepts it: a
  // joining member hears from the leader before its log has told it who the leader is.
  pipeline(req: Req, res: Res): void {
    if (!this.#admitSender(req, res)) return;
    res.writeHead(200, { [H.serverVersion]: SERVER_VERSION });
    res.flushHeaders();
    const decoder = new FrameDecoder(this.#maxMessage);
    const log = this.opts.logger;
    req.on("data", (chunk: Uint8Array) => {
      let msgs: Message[];
      try {
        msgs = decoder.push(plain(chunk));
      } catch (err) {
        log.warn({ pkg: "rafthttp", text: `failed to read raft message (${err})` });
        net.peerReceivedFailures.labels({ From: firstHeader(req.headers, H.from) ?? "" }).inc();
        req.destroy();
        return;
      }
      if (msgs.length > 0) {
        net.peerReceivedBytes.labels({ From: hexId(msgs[0].from) }).inc(decoder.lastBytes);
      }
      for (const m of msgs) {
        try {
          this.opts.transport.receive(m);
        } catch (err) {
          // One message Raft refuses must not take the stream down. (What breaks Raft never
          // comes back here: the member stops where it breaks.)
          if (this.#limiter.allow("process:" + m.from)) {
            log.warn({ pkg: "rafthttp", text: `failed to process raft message (${err})` });
          }
        }
      }
    });
    req.once("end", () => res.end());
  }

  // etcd's receiver-initiated streams. etcd-ts sends by POST /raft, but these answer exactly
  // as etcd's do (tools fingerprint a peer port with them); an accepted one stays open, idle.
  stream(req: Req, res: Res, path: string): void {
    if (!allowMethod(req, res, "GET")) return;
    res.setHeader(H.serverVersion, SERVER_VERSION);
    if (!this.#admit(req, res)) return;
    const slash = path.lastIndexOf("/");
    const dir = path.slice(0, slash);
    if (dir !== "/raft/stream/message" && dir !== "/raft/stream/msgapp") {
      return reject(res, REJECT.invalidPath);
    }
    const from = parseHexId(path.slice(slash + 1));
    if (from === undefined) return reject(res, REJECT.invalidFrom);
    if (this.opts.isRemoved(from)) return reject(res, REJECT.removedMember);
    if (!this.opts.isKnown(from)) return reject(res, REJECT.senderNotFound);
    if (firstHeader(req.headers, H.raftTo) !== hexId(this.opts.localId)) {
      return reject(res, REJECT.toFieldMismatch);
    }
    res.writeHead(200);
    res.flushHeaders();
    req.once("close", () => res.end());
  }

  // POST /raft/snapshot: the MsgSnap and the sender's backend file, stepped once saved.
  async snapshot(req: Req, res: Res): Promise<void> {
    if (!this.#admitSender(req, res)) return;
    const from = firstHeader(req.headers, H.from) ?? "";
    const start = performance.now();
    net.snapshotReceiveInflights.labels({ From: from }).inc();
    try {
      if (await this.#receiveSnapshot(req, res)) {
        net.snapshotReceive.labels({ From: from }).inc();
        net.snapshotReceiveSeconds.labels({ From: from }).observe(secondsSince(start));
      } else {
        net.snapshotReceiveFailures.labels({ From: from }).inc();
      }
    } finally {
      net.snapshotReceiveInflights.labels({ From: from }).dec();
    }
  }

  // Whether the snapshot arrived and was saved; a refusal has been answered otherwise.
  async #receiveSnapshot(req: Req, res: Res): Promise<boolean> {
    const log = this.opts.logger;
    let m: Message;
    try {
      const body = await readBody(req);
      m = decodeSnapshotBody(body);
      net.peerReceivedBytes.labels({ From: hexId(m.from) }).inc(body.length);
    } catch (err) {
      log.error({ pkg: "rafthttp", text: `failed to decode raft message (${err})` });
      httpError(res, 400, "error decoding raft snapshot message");
      return false;
    }
    if (m.type !== MessageType.MsgSnap) {
      log.error({ pkg: "rafthttp", text: "unexpected raft message type on snapshot path" });
      httpError(res, 400, "wrong raft message type");
      return false;
    }
    const index = m.snapshot!.metadata.index;
    log.info({
      pkg: "rafthttp",
      text: `receiving database snapshot [index:${index}, from ${hexId(m.from)}] ...`,
      msg: "receiving database snapshot",
      fields: { "snapshot-index": index, "remote-snapshot-sender-id": hexId(m.from) },
    });
    try {
      if (failpoints.on) await hit("raftBeforeReceiveSnapshot");
      await this.opts.transport.receiveSnapshot(m);
    } catch (err) {
      log.error({ pkg: "rafthttp", text: `failed to process raft message (${err})` });
      httpError(res, 500, "error processing raft message");
      return false;
    }
    log.info({
      pkg: "rafthttp",
      text: `received and saved database snapshot [index: ${index}, from: ${
        hexId(m.from)
      }] successfully`,
      msg: "received and saved database snapshot",
      fields: { "snapshot-index": index, "remote-snapshot-sender-id": hexId(m.from) },
    });
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
  // compatible member that was not removed, addressed to us. Its URLs are noted on the way.
  #admitSender(req: Req, res: Res): boolean {
    if (!allowMethod(req, res, "POST") || !this.#admit(req, res)) return false;
    const from = parseHexId(firstHeader(req.headers, H.from));
    if (from !== undefined && this.opts.isRemoved(from)) {
      reject(res, REJECT.removedMember);
      return false;
    }
    const to = firstHeader(req.headers, H.raftTo);
    if (to !== undefined && to !== hexId(this.opts.localId)) {
      reject(res, REJECT.toFieldMismatch);
      return false;
    }
    const urls = (firstHeader(req.headers, H.peerURLs) ?? "").split(",").filter((u) => u !== "");
    if (from !== undefined && urls.length > 0) this.opts.transport.addRemote?.(from, urls);
    return true;
  }
}
