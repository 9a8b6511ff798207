// The peer listener (etcd's peer handler): raft messages, snapshots, probing, and the
// membership and version look-ups that joining members and proxies make. Paths, statuses and
// bodies follow etcd 3.4 (spec/api.md §6); anything else is `404 page not found`.
import http from "node:http";
import net from "node:net";
import type tls from "node:tls";
import { createSecureServer, type ServerTLS } from "../tls/mod.ts";
import { isSecureListenURL, listenOn } from "../tls/mod.ts";
import { type Message, MessageType } from "../raft/mod.ts";
import type { Logger } from "../log/mod.ts";
import { checkCompatibility, firstHeader, LogLimiter, REJECT, type Rejection } from "./checks.ts";
import { createLeaderRoutes, type PeerLeaderApi } from "./leader_handler.ts";
import { formatMembersJSON, type PeerMember } from "./members_json.ts";
import { allowMethod, httpError, plain, readBody, sendJSON } from "./respond.ts";
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

export interface ServePeerOptions {
  localId: bigint;
  clusterId(): bigint;
  members(): PeerMember[];
  isRemoved(id: bigint): boolean;
  isKnown(id: bigint): boolean;
  /** `etcdcluster` is empty until the cluster version is decided. */
  version(): { etcdserver: string; etcdcluster: string };
  transport: PeerReceiver;
  logger: Logger;
  /** Server certificate and client-certificate policy; required for https:// URLs. */
  tls?: ServerTLS | tls.TlsOptions;
  /** Largest raft message accepted on a stream (default 64 MiB). */
  maxMessageBytes?: number;
  /**
   * Answers for what members forward to the leader (/leases, /leases/internal,
   * /members/promote/<id>, /members/hashkv); without it those paths are not served.
   */
  leader?: PeerLeaderApi;
}

export interface PeerListener {
  address: net.AddressInfo;
  close(): Promise<void>;
}

type Req = http.IncomingMessage;
type Res = http.ServerResponse;

function reject(res: Res, r: Rejection): void {
  httpError(res, r.status, r.body);
}

/** Go's RFC 3339 time with the fraction's trailing zeros trimmed. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.?0+Z$/, "Z");
}

export function createPeerHandler(opts: ServePeerOptions): http.RequestListener {
  const limiter = new LogLimiter();
  const compat = { clusterId: opts.clusterId, logger: opts.logger, limiter };
  const maxMessage = opts.maxMessageBytes ?? 64 * 1024 * 1024;
  const log = opts.logger;
  const leaderRoutes = opts.leader && createLeaderRoutes(opts.leader, opts.clusterId, log);

  // Version and cluster ID first; every raft response names our cluster.
  const admit = (req: Req, res: Res): boolean => {
    res.setHeader(H.clusterId, hexId(opts.clusterId()));
    const r = checkCompatibility(req.headers, compat);
    if (r) reject(res, r);
    return !r;
  };

  const removedSender = (req: Req): bigint | undefined => {
    const from = parseHexId(firstHeader(req.headers, H.from));
    return from !== undefined && opts.isRemoved(from) ? from : undefined;
  };

  const addRemote = (req: Req) => {
    const from = parseHexId(firstHeader(req.headers, H.from));
    const urls = (firstHeader(req.headers, H.peerURLs) ?? "").split(",").filter((u) => u !== "");
    if (from !== undefined && urls.length > 0) opts.transport.addRemote?.(from, urls);
  };

  const toMismatch = (req: Req): boolean => {
    const to = firstHeader(req.headers, H.raftTo);
    return to !== undefined && to !== hexId(opts.localId);
  };

  // POST /raft: length-prefixed messages, as one batch or a stream that lasts as long as the
  // sender's connection. An unknown sender is accepted, as etcd's pipeline accepts it: a
  // joining member hears from the leader before its log has told it who the leader is.
  const messages = (req: Req, res: Res) => {
    if (!allowMethod(req, res, "POST") || !admit(req, res)) return;
    if (removedSender(req) !== undefined) return reject(res, REJECT.removedMember);
    if (toMismatch(req)) return reject(res, REJECT.toFieldMismatch);
    addRemote(req);
    res.writeHead(200, { [H.serverVersion]: SERVER_VERSION });
    res.flushHeaders();
    const decoder = new FrameDecoder(maxMessage);
    req.on("data", (chunk: Uint8Array) => {
      let msgs: Message[];
      try {
        msgs = decoder.push(plain(chunk));
      } catch (err) {
        log.warn({ pkg: "rafthttp", text: `failed to read raft message (${err})` });
        req.destroy();
        return;
      }
      for (const m of msgs) {
        try {
          opts.transport.receive(m);
        } catch (err) {
          // One message Raft refuses must not take the stream (or the process) down.
          if (limiter.allow("process:" + m.from)) {
            log.warn({ pkg: "rafthttp", text: `failed to process raft message (${err})` });
          }
        }
      }
    });
    req.once("end", () => res.end());
  };

  // etcd's receiver-initiated streams. etcd-ts sends by POST /raft, but these answer exactly
  // as etcd's do (tools fingerprint a peer port with them); an accepted one stays open, idle.
  const stream = (req: Req, res: Res, path: string) => {
    if (!allowMethod(req, res, "GET")) return;
    res.setHeader(H.serverVersion, SERVER_VERSION);
    if (!admit(req, res)) return;
    const slash = path.lastIndexOf("/");
    const dir = path.slice(0, slash);
    if (dir !== "/raft/stream/message" && dir !== "/raft/stream/msgapp") {
      return reject(res, REJECT.invalidPath);
    }
    const from = parseHexId(path.slice(slash + 1));
    if (from === undefined) return reject(res, REJECT.invalidFrom);
    if (opts.isRemoved(from)) return reject(res, REJECT.removedMember);
    if (!opts.isKnown(from)) return reject(res, REJECT.senderNotFound);
    if (firstHeader(req.headers, H.raftTo) !== hexId(opts.localId)) {
      return reject(res, REJECT.toFieldMismatch);
    }
    res.writeHead(200);
    res.flushHeaders();
    req.once("close", () => res.end());
  };

  // POST /raft/snapshot: the MsgSnap and the sender's backend file, stepped once saved.
  const snapshot = async (req: Req, res: Res) => {
    if (!allowMethod(req, res, "POST") || !admit(req, res)) return;
    if (removedSender(req) !== undefined) return reject(res, REJECT.removedMember);
    if (toMismatch(req)) return reject(res, REJECT.toFieldMismatch);
    addRemote(req);
    let m: Message;
    try {
      m = decodeSnapshotBody(await readBody(req));
    } catch (err) {
      log.error({ pkg: "rafthttp", text: `failed to decode raft message (${err})` });
      return httpError(res, 400, "error decoding raft snapshot message");
    }
    if (m.type !== MessageType.MsgSnap) {
      log.error({ pkg: "rafthttp", text: "unexpected raft message type on snapshot path" });
      return httpError(res, 400, "wrong raft message type");
    }
    const index = m.snapshot!.metadata.index;
    log.info({
      pkg: "rafthttp",
      text: `receiving database snapshot [index:${index}, from ${hexId(m.from)}] ...`,
      msg: "receiving database snapshot",
      fields: { "snapshot-index": index, "remote-snapshot-sender-id": hexId(m.from) },
    });
    try {
      await opts.transport.receiveSnapshot(m);
    } catch (err) {
      log.error({ pkg: "rafthttp", text: `failed to process raft message (${err})` });
      return httpError(res, 500, "error processing raft message");
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
  };

  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/raft") return messages(req, res);
    if (path.startsWith("/raft/stream/")) return stream(req, res, path);
    if (path === "/raft/snapshot") {
      snapshot(req, res).catch(() => res.destroy());
      return;
    }
    if (path === "/raft/probing") {
      return sendJSON(res, `{"OK":true,"Now":"${rfc3339(new Date())}"}\n`);
    }
    if (path === "/members") {
      if (!allowMethod(req, res, "GET")) return;
      return sendJSON(res, formatMembersJSON(opts.members()), {
        [H.clusterId]: hexId(opts.clusterId()),
      });
    }
    if (path === "/version") {
      if (!allowMethod(req, res, "GET")) return;
      const v = opts.version();
      return sendJSON(
        res,
        JSON.stringify({ etcdserver: v.etcdserver, etcdcluster: v.etcdcluster || "not_decided" }),
      );
    }
    if (leaderRoutes?.(path, req, res)) return;
    httpError(res, 404, "404 page not found");
  };
}

/** Listens on one peer URL (http, or https with `opts.tls`). */
export async function servePeer(url: URL, opts: ServePeerOptions): Promise<PeerListener> {
  const secure = isSecureListenURL(url, "peer", opts.tls !== undefined);
  const h1 = http.createServer(createPeerHandler(opts));
  // Message streams last as long as the connection: no per-request deadline.
  h1.requestTimeout = 0;
  h1.on("clientError", (_err, socket) => socket.destroy());

  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setNoDelay(true);
  };
  let server: net.Server;
  if (secure) {
    // The peer certificate checks (CA, allowed CN/hostname, CRL, SANs against the source
    // address) run before any request is read; refusals are logged as etcd logs them.
    server = createSecureServer(opts.tls!, {
      log: opts.logger,
      tls: { ALPNProtocols: ["http/1.1"] },
      onSecure: (socket) => {
        socket.on("error", () => socket.destroy());
        h1.emit("connection", socket);
      },
    });
    server.on("connection", track);
  } else {
    server = net.createServer((socket) => {
      track(socket);
      h1.emit("connection", socket);
    });
  }
  await listenOn(server, url);
  return {
    address: server.address() as net.AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
