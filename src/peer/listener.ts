// The peer listener (etcd's peer handler): routes raft traffic to its handlers
// (raft_handlers.ts) and the forwarded requests to the leader's (leader_handler.ts), and
// answers probing and the membership and version look-ups that joining members and proxies
// make. Paths, statuses and bodies follow etcd 3.4 (spec/api.md §6); anything else is
// `404 page not found`.
import http from "node:http";
import net from "node:net";
import type tls from "node:tls";
import { createSecureServer, type ServerTLS } from "../tls/mod.ts";
import { boundAddress, boundPort, isSecureListenURL, listenOn } from "../tls/mod.ts";
import { createLeaderRoutes, type PeerLeaderApi } from "./leader_handler.ts";
import { formatMembersJSON, type PeerMember } from "./members_json.ts";
import { RaftHandlers, type RaftReceiverOptions } from "./raft_handlers.ts";
import { allowMethod, httpError, sendJSON } from "./respond.ts";
import { H, hexId } from "./wire.ts";

export interface ServePeerOptions extends RaftReceiverOptions {
  members(): PeerMember[];
  /** `etcdcluster` is empty until the cluster version is decided. */
  version(): { etcdserver: string; etcdcluster: string };
  /** Server certificate and client-certificate policy; required for https:// URLs. */
  tls?: ServerTLS | tls.TlsOptions;
  /**
   * Answers for what members forward to the leader (/leases, /leases/internal,
   * /members/promote/<id>, /members/hashkv); without it those paths are not served.
   */
  leader?: PeerLeaderApi;
}

export interface PeerListener {
  /** The bound address (port 0 for a unix socket). */
  address: net.AddressInfo;
  /** The address as etcd logs it: host:port, or the unix socket's path. */
  addr: string;
  close(): Promise<void>;
}

/** Go's RFC 3339 time with the fraction's trailing zeros trimmed. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.?0+Z$/, "Z");
}

export function createPeerHandler(opts: ServePeerOptions): http.RequestListener {
  const raft = new RaftHandlers(opts);
  const leaderRoutes = opts.leader && createLeaderRoutes(opts.leader, opts.clusterId, opts.logger);
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/raft") return void raft.pipeline(req, res).catch(() => res.destroy());
    if (path.startsWith("/raft/stream/")) return raft.stream(req, res, path);
    if (path === "/raft/snapshot") return void raft.snapshot(req, res).catch(() => res.destroy());
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

/** Listens on one peer URL (http or unix, or https or unixs with `opts.tls`). */
export async function servePeer(url: URL, opts: ServePeerOptions): Promise<PeerListener> {
  const secure = isSecureListenURL(url, "peer", opts.tls !== undefined);
  const h1 = http.createServer(createPeerHandler(opts));
  // Stream responses last as long as the connection: no per-request deadline.
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
  // node:http keeps a connection open after an answer only while its server listens; this one
  // is handed connections by the peer port's socket, so it reports that socket's state (else
  // every answer would end its connection, and peers would dial once per pipeline message).
  Object.defineProperty(h1, "listening", { get: () => server.listening });
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
  // etcd removes a peer socket file left behind by an earlier run (transport.NewUnixListener).
  await listenOn(server, url, { removeStaleSocket: true });
  const addr = boundAddress(server);
  const bound = server.address();
  return {
    address: typeof bound === "object" && bound !== null
      ? bound
      : { address: addr, family: "unix", port: boundPort(server) },
    addr,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
